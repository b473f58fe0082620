//! CycloneDX JSON (spec 1.2–1.6; 1.0/1.1/1.7 documents read the same way).
//!
//! Components are read recursively (nested `components`, flattened depth
//! first); the document's subject (`metadata.component`) is not a component
//! but the `(root)` of the dependency graph, while its own sub-components
//! (`metadata.component.components`: the parts of a product) are
//! components like any other. `bom-ref` is only used to resolve `dependencies`: it is
//! no identity (generators put the version in it). Everything that changes on
//! every generation (`serialNumber`, `metadata.timestamp`, `metadata.tools`,
//! `version`) is never read.
//!
//! The document is read as a stream of components: each is turned into a
//! [`Component`] as soon as its JSON object ends, so no tree of the whole
//! document is ever held (a 1 GB SBOM of 4 million components would cost
//! several times its size that way), and the interrupt flag is polled as
//! components go by, so Ctrl-C acts in the middle of a huge document.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use common::{Error, Result};

use crate::message::{json_error, shown, strip_bom};
use crate::model::{root, Component, Edges, Options, Sbom};
use crate::purl::Purl;

// Strings borrow from the input where they can (`Cow`): a 50,000-component
// document would otherwise cost a few hundred thousand allocations.

/// The fields of one component that are read; the rest is skipped.
#[derive(Default)]
struct Comp<'a> {
    bom_ref: Option<Cow<'a, str>>,
    group: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    version: Option<Cow<'a, str>>,
    purl: Option<Cow<'a, str>>,
    hashes: Option<Vec<Hash<'a>>>,
    licenses: Option<Vec<LicenseChoice<'a>>>,
    supplier: Option<Entity<'a>>,
}

#[derive(Deserialize)]
struct Hash<'a> {
    #[serde(borrow)]
    alg: Option<Cow<'a, str>>,
    #[serde(borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct LicenseChoice<'a> {
    #[serde(borrow)]
    license: Option<License<'a>>,
    #[serde(borrow)]
    expression: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct License<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Entity<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Dependency<'a> {
    #[serde(rename = "ref", borrow)]
    reference: Option<Cow<'a, str>>,
    #[serde(rename = "dependsOn", borrow)]
    depends_on: Option<Vec<Cow<'a, str>>>,
}

/// A string borrowed from the input where it has no escapes (serde's own
/// `Cow<str>` always copies unless a derive says `borrow`).
struct Text<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `Option<Text>` as the `Option<Cow>` the fields hold.
fn text<'de, A: MapAccess<'de>>(
    map: &mut A,
) -> std::result::Result<Option<Cow<'de, str>>, A::Error> {
    Ok(map.next_value::<Option<Text<'de>>>()?.map(|t| t.0))
}

/// An object key, matched without copying it.
struct Key(Option<u8>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Key, E> {
                Ok(Key(FIELDS.iter().position(|f| *f == v).map(|i| i as u8)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The keys read (a component's fields, then the document's), by index.
const FIELDS: [&str; 13] = [
    "bom-ref",
    "group",
    "name",
    "version",
    "purl",
    "hashes",
    "licenses",
    "supplier",
    "components",
    "specVersion",
    "metadata",
    "dependencies",
    "bomFormat",
];

/// Components are polled for an interrupt every this many.
const POLL_EVERY: usize = 1024;

/// What the stream of components builds, shared by the nested visitors.
struct Ctx<'c, 'de> {
    file: &'c str,
    opts: &'c Options,
    components: RefCell<Vec<Component>>,
    /// bom-ref → identity, for the dependency graph.
    refs: RefCell<HashMap<Cow<'de, str>, Arc<str>>>,
    /// Dependencies met before every component was read (resolved at the end).
    pending: RefCell<Vec<Dependency<'de>>>,
    edges: RefCell<Option<Edges>>,
    components_done: Cell<bool>,
    /// Index of each enclosing component among its siblings (for pointers).
    path: RefCell<Vec<usize>>,
    /// Where that path starts: `` for the top-level `components`,
    /// `/metadata/component` for the subject's sub-components.
    base: Cell<&'static str>,
    /// A component error (or an interrupt) that stopped the stream: reported
    /// as is, not as the JSON error serde makes of it.
    failure: RefCell<Option<Error>>,
    seen: Cell<usize>,
}

impl<'de> Ctx<'_, 'de> {
    fn pointer(&self) -> String {
        let mut out = self.base.get().to_string();
        for i in self.path.borrow().iter() {
            out.push_str(&format!("/components/{i}"));
        }
        out
    }

    /// Drops the components read since `start` whose identity, without its
    /// subpath, is the subject's: parts of the subject itself. Their
    /// bom-refs stand for the subject, `(root)`, in the graph.
    fn drop_parts_of(&self, start: usize, subject: &str) {
        let mut list = self.components.borrow_mut();
        let mut dropped: HashSet<Arc<str>> = HashSet::new();
        for c in list.split_off(start) {
            if Purl::parse(&c.id).is_ok_and(|p| without_subpath(&p) == subject) {
                dropped.insert(c.id);
            } else {
                list.push(c);
            }
        }
        if dropped.is_empty() {
            return;
        }
        for id in self.refs.borrow_mut().values_mut() {
            if dropped.contains(id) {
                *id = root();
            }
        }
    }

    fn fail<E: de::Error>(&self, e: Error) -> E {
        let message = e.to_string();
        *self.failure.borrow_mut() = Some(e);
        E::custom(message)
    }

    /// Adds the edges of one `dependencies` entry (refs must be known).
    fn resolve(&self, d: &Dependency<'de>) {
        let refs = self.refs.borrow();
        let Some(from) = d.reference.as_deref().and_then(|r| refs.get(r)) else {
            return;
        };
        let mut edges = self.edges.borrow_mut();
        let edges = edges.get_or_insert_with(HashSet::new);
        for to in d.depends_on.iter().flatten() {
            if let Some(to) = refs.get(to.as_ref()) {
                if to != from {
                    edges.insert((Arc::clone(from), Arc::clone(to)));
                }
            }
        }
    }
}

struct BomVisitor<'a, 'c, 'de>(&'a Ctx<'c, 'de>);

impl<'de> Visitor<'de> for BomVisitor<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CycloneDX document object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let ctx = self.0;
        let mut seen_components = false;
        let mut seen_metadata = false;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key
                .and_then(|k| FIELDS.get(k as usize))
                .copied()
                .unwrap_or("")
            {
                "specVersion" => {
                    let v = text(&mut map)?;
                    if let Some(v) = v.filter(|v| !v.starts_with("1.")) {
                        return Err(ctx.fail(Error::new(format!(
                            "{}: /specVersion: CycloneDX {} is not a 1.x version",
                            ctx.file,
                            shown(&v)
                        ))));
                    }
                }
                "metadata" => {
                    map.next_value_seed(Nullable(MetadataSeed(ctx)))?;
                    seen_metadata = true;
                }
                "components" => {
                    if seen_components {
                        return Err(de::Error::duplicate_field("components"));
                    }
                    seen_components = true;
                    map.next_value_seed(Nullable(ComponentsSeed(ctx)))?;
                }
                "dependencies" => {
                    // Every bom-ref is known once the components and the
                    // subject were read: edges resolve as they stream.
                    ctx.components_done.set(seen_components && seen_metadata);
                    map.next_value_seed(Nullable(DependenciesSeed(ctx)))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A member that may be `null` (nothing to read then); otherwise `V` reads
/// it, and refuses a value of the wrong type with its own expectation.
struct Nullable<V>(V);

impl<'de, V: Visitor<'de, Value = ()>> DeserializeSeed<'de> for Nullable<V> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, V: Visitor<'de, Value = ()>> Visitor<'de> for Nullable<V> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self.0)
    }
}

/// The `metadata` object: only its `component` (the subject) is read.
struct MetadataSeed<'a, 'c, 'de>(&'a Ctx<'c, 'de>);

impl<'de> Visitor<'de> for MetadataSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CycloneDX metadata object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "component" {
                map.next_value_seed(Nullable(SubjectSeed(self.0)))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// `metadata.component`, the subject: its bom-ref is `(root)` in the
/// graph, and its `components` are components (streamed like the
/// top-level ones), except those that are the subject itself under a
/// subpath: cargo-cyclonedx lists the crate's build targets there
/// (`pkg:cargo/app@0.1.0#src/main.rs`), which are no dependency and stand
/// for the subject (`(root)`) in the graph.
struct SubjectSeed<'a, 'c, 'de>(&'a Ctx<'c, 'de>);

impl<'de> Visitor<'de> for SubjectSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CycloneDX component object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let ctx = self.0;
        let (mut seen_ref, mut seen_components) = (false, false);
        let start = ctx.components.borrow().len();
        let (mut purl, mut group, mut name) = (None, None, None);
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.and_then(|k| FIELDS.get(k as usize)).copied() {
                Some("purl") if purl.is_none() => purl = text(&mut map)?,
                Some("group") if group.is_none() => group = text(&mut map)?,
                Some("name") if name.is_none() => name = text(&mut map)?,
                Some("bom-ref") => {
                    if std::mem::replace(&mut seen_ref, true) {
                        return Err(de::Error::duplicate_field("bom-ref"));
                    }
                    if let Some(r) = text(&mut map)? {
                        ctx.refs.borrow_mut().insert(r, root());
                    }
                }
                Some("components") => {
                    if std::mem::replace(&mut seen_components, true) {
                        return Err(de::Error::duplicate_field("components"));
                    }
                    ctx.base.set("/metadata/component");
                    let read = map.next_value_seed(Nullable(ComponentsSeed(ctx)));
                    ctx.base.set("");
                    read?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let subject = match purl.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => Purl::parse(p).ok().map(|p| without_subpath(&p)),
            None => name.as_deref().filter(|n| !n.trim().is_empty()).map(|n| {
                Purl::new(
                    "generic",
                    group.as_deref().filter(|g| !g.is_empty()),
                    n,
                    None,
                )
                .identity()
            }),
        };
        if let Some(subject) = subject {
            ctx.drop_parts_of(start, &subject);
        }
        Ok(())
    }
}

/// The identity of a purl without its subpath: a build target of a crate
/// (`...#src/main.rs`) is that crate.
fn without_subpath(purl: &Purl) -> String {
    let mut p = purl.clone();
    p.subpath = None;
    p.identity()
}

/// A `components` array (top level or nested).
struct ComponentsSeed<'a, 'c, 'de>(&'a Ctx<'c, 'de>);

impl<'de> Visitor<'de> for ComponentsSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CycloneDX components")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let ctx = self.0;
        let mut index = 0;
        loop {
            ctx.path.borrow_mut().push(index);
            let more = seq.next_element_seed(ComponentSeed(ctx))?;
            ctx.path.borrow_mut().pop();
            if more.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }
}

/// One component object: read, converted, and pushed in document order
/// (a parent before its nested components, whatever the key order).
struct ComponentSeed<'a, 'c, 'de>(&'a Ctx<'c, 'de>);

impl<'de> DeserializeSeed<'de> for ComponentSeed<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ComponentSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CycloneDX component object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let ctx = self.0;
        let n = ctx.seen.get() + 1;
        ctx.seen.set(n);
        if n.is_multiple_of(POLL_EVERY) && common::interrupt::requested() {
            return Err(ctx.fail(Error::new(format!("{}: interrupted", ctx.file))));
        }
        let start = ctx.components.borrow().len();
        let mut c = Comp::default();
        let mut fields = 0u16;
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let bit = match key {
                Some(bit) if bit <= 8 => bit,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if fields & (1 << bit) != 0 {
                return Err(de::Error::duplicate_field(FIELDS[bit as usize]));
            }
            fields |= 1 << bit;
            match bit {
                0 => c.bom_ref = text(&mut map)?,
                1 => c.group = text(&mut map)?,
                2 => c.name = text(&mut map)?,
                3 => c.version = text(&mut map)?,
                4 => c.purl = text(&mut map)?,
                5 => c.hashes = map.next_value()?,
                6 => c.licenses = map.next_value()?,
                7 => c.supplier = map.next_value()?,
                _ => map.next_value_seed(Nullable(ComponentsSeed(ctx)))?,
            }
        }
        let pointer = || ctx.pointer();
        let mut component = component(ctx.file, &pointer, &c, ctx.opts).map_err(|e| ctx.fail(e))?;
        component.shrink();
        if let Some(r) = c.bom_ref {
            ctx.refs
                .borrow_mut()
                .entry(r)
                .or_insert_with(|| Arc::clone(&component.id));
        }
        let mut list = ctx.components.borrow_mut();
        if list.len() == start {
            list.push(component);
        } else {
            // Its nested components came first in the object: it goes before them.
            list.insert(start, component);
        }
        Ok(())
    }
}

/// The `dependencies` array: resolved as it streams when the components
/// are already known (the usual order), else kept for the end.
struct DependenciesSeed<'a, 'c, 'de>(&'a Ctx<'c, 'de>);

impl<'de> Visitor<'de> for DependenciesSeed<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CycloneDX dependencies")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let ctx = self.0;
        ctx.edges.borrow_mut().get_or_insert_with(HashSet::new);
        let mut n = 0usize;
        while let Some(d) = seq.next_element::<Dependency<'de>>()? {
            n += 1;
            if n.is_multiple_of(POLL_EVERY) && common::interrupt::requested() {
                return Err(ctx.fail(Error::new(format!("{}: interrupted", ctx.file))));
            }
            if ctx.components_done.get() {
                ctx.resolve(&d);
            } else {
                ctx.pending.borrow_mut().push(d);
            }
        }
        Ok(())
    }
}

pub fn parse(name: &str, bytes: &[u8], opts: &Options) -> Result<Sbom> {
    let ctx = Ctx {
        file: name,
        opts,
        components: RefCell::new(Vec::new()),
        refs: RefCell::new(HashMap::new()),
        pending: RefCell::new(Vec::new()),
        edges: RefCell::new(None),
        components_done: Cell::new(false),
        path: RefCell::new(Vec::new()),
        base: Cell::new(""),
        failure: RefCell::new(None),
        seen: Cell::new(0),
    };
    let mut de = serde_json::Deserializer::from_slice(strip_bom(bytes));
    let parsed =
        serde::Deserializer::deserialize_map(&mut de, BomVisitor(&ctx)).and_then(|()| de.end());
    if let Some(e) = ctx.failure.take() {
        if common::interrupt::requested() {
            // The process ends now: freeing what was read (millions of
            // components) would outlast the interrupt watchdog's 1 s grace.
            std::mem::forget(ctx);
        }
        return Err(e);
    }
    parsed.map_err(|e| json_error(name, &e))?;
    ctx.components_done.set(true);
    for d in ctx.pending.take() {
        ctx.resolve(&d);
    }
    Ok(Sbom {
        format: "cyclonedx",
        components: ctx.components.take(),
        edges: ctx.edges.take(),
        locals: Vec::new(),
    })
}

/// A purl whose version contradicts the component's `version` is refused:
/// judged by `version` alone, `pkg:npm/lodash@4.17.20` beside `"version":
/// "4.17.21"` was no change, while scanners (Dependency-Track, Grype) match
/// on the purl, which names the older release. The same version in the
/// ecosystem's order (PEP 440 `1.0` = `1.0.0`), or with the purl's `epoch`
/// qualifier in front (`1:2.3` = `2.3?epoch=1`), agrees.
fn agree(
    file: &str,
    pointer: &dyn Fn() -> String,
    purl: &Purl,
    in_purl: &str,
    version: &str,
) -> Result<()> {
    let scheme = crate::version::scheme(&purl.ty, [in_purl, version]);
    let with_epoch = purl.epoch.as_deref().map(|e| format!("{e}:{in_purl}"));
    let same = |v: &str| crate::version::same_in(scheme, v, version);
    if same(in_purl) || with_epoch.as_deref().is_some_and(same) {
        return Ok(());
    }
    Err(Error::new(format!(
        "{file}: {}/purl: the purl's version {} contradicts the component's version {}",
        pointer(),
        shown(in_purl),
        shown(version)
    ))
    .with_hint("scanners match on the purl: regenerate the SBOM, or correct whichever is wrong"))
}

/// One component, or an error naming its JSON pointer (no purl and no name,
/// a bad purl, no version without --allow-unversioned).
fn component(
    file: &str,
    pointer: &dyn Fn() -> String,
    c: &Comp<'_>,
    opts: &Options,
) -> Result<Component> {
    let label = c.name.as_deref().unwrap_or("");
    let purl = match &c.purl {
        Some(text) if !text.trim().is_empty() => {
            Purl::parse(text).map_err(|e| Error::new(format!("{file}: {}/purl: {e}", pointer())))?
        }
        _ => {
            let Some(n) = c.name.as_deref().filter(|n| !n.trim().is_empty()) else {
                return Err(Error::new(format!(
                    "{file}: {}: component has neither a purl nor a name",
                    pointer()
                )));
            };
            Purl::new(
                "generic",
                c.group.as_deref().filter(|g| !g.is_empty()),
                n,
                None,
            )
        }
    };
    let version = match c
        .version
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(v) => v.to_string(),
        None => opts.version(purl.version.clone(), "components", || {
            let what = format!("component {} has no version", shown(label));
            Error::new(format!("{file}: {}: {what}", pointer()))
        })?,
    };
    if let Some(in_purl) = purl.version.as_deref().filter(|_| c.version.is_some()) {
        agree(file, pointer, &purl, in_purl, &version)?;
    }
    let mut out = Component::new(&purl, &version);
    for h in c.hashes.iter().flatten() {
        if let (Some(alg), Some(content)) = (&h.alg, &h.content) {
            out.add_hash(alg, content);
        }
    }
    for l in c.licenses.iter().flatten() {
        if let Some(e) = &l.expression {
            out.licenses_mut().add_expression(e);
        }
        if let Some(lic) = &l.license {
            if let Some(id) = &lic.id {
                out.licenses_mut().add_expression(id);
            } else if let Some(n) = &lic.name {
                out.licenses_mut().add_name(n);
            }
        }
    }
    if let Some(s) = c.supplier.as_ref().and_then(|s| s.name.as_deref()) {
        out.set_supplier(s);
    }
    Ok(out)
}
