//! XML in and out for the Bandwidth dialect. Reading is deliberately tolerant where the official
//! SDKs differ from the documents (element names compared case-insensitively and in any order,
//! unknown elements ignored, either quote style in the declaration) and strict where safety is at
//! stake: any `<!DOCTYPE>` is refused (so no entity can be declared, let alone expanded), only
//! the five predefined entities and character references are resolved, and size, depth and
//! element count are bounded. Writing produces the documents byte for byte as Bandwidth's begin:
//! the `standalone="yes"` declaration, then the elements indented by four spaces.

use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

// No size limit of its own: the edge has read the body under the one server-wide limit (4 MiB
// by default, docs/SECURITY.md), which a 5000-number order (about 250 KB) is far below; a
// second, smaller limit here once refused bodies the documentation accepts.
const MAX_DEPTH: usize = 32;
const MAX_ELEMENTS: usize = 50_000;

/// One element of a parsed request: its name as sent, its text (concatenated, trimmed) and its
/// child elements in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The first child with this name (case-insensitive).
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(name))
    }

    /// The first child having any of these names (spelling variants of one element).
    pub fn child_any(&self, names: &[&str]) -> Option<&Element> {
        self.children.iter().find(|c| names.iter().any(|n| c.is(n)))
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.is(name))
    }

    /// The text of a child, `None` when absent or blank.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    }

    pub fn text_any(&self, names: &[&str]) -> Option<&str> {
        self.child_any(names)
            .map(|c| c.text.as_str())
            .filter(|t| !t.is_empty())
    }
}

/// Parses a request body into its root element, or says in plain words what is wrong with it.
pub fn parse(bytes: &[u8]) -> Result<Element, String> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| "the request body is not UTF-8".to_string())?;
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    let malformed =
        |e: &dyn std::fmt::Display| format!("the request body is not well-formed XML: {e}");
    loop {
        let event = reader.read_event().map_err(|e| malformed(&e))?;
        match event {
            Event::DocType(_) => {
                return Err("document type declarations (<!DOCTYPE>) are not accepted".into());
            }
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err("the document has more than one root element".into());
            }
            Event::Start(start) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err("the document is nested too deeply or has too many elements".into());
                }
                stack.push(Element {
                    name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
                    ..Default::default()
                });
            }
            Event::Empty(start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err("the document has too many elements".into());
                }
                let element = Element {
                    name: String::from_utf8_lossy(start.name().as_ref()).into_owned(),
                    ..Default::default()
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::End(end) => {
                let Some(mut element) = stack.pop() else {
                    return Err(malformed(&"unexpected closing tag"));
                };
                if end.name().as_ref() != element.name.as_bytes() {
                    return Err(malformed(&format!(
                        "</{}> closes <{}>",
                        String::from_utf8_lossy(end.name().as_ref()),
                        element.name
                    )));
                }
                element.text = element.text.trim().to_string();
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| malformed(&e))?;
                match stack.last_mut() {
                    Some(current) => current.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(malformed(&"text outside the root element")),
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| malformed(&e))?;
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| malformed(&e))?
                } else {
                    let name = r.decode().map_err(|e| malformed(&e))?;
                    quick_xml::escape::resolve_xml_entity(&name).and_then(|s| s.chars().next())
                };
                let Some(c) = resolved else {
                    return Err("only the predefined XML entities are accepted".into());
                };
                match stack.last_mut() {
                    Some(current) => current.text.push(c),
                    None => return Err(malformed(&"a reference outside the root element")),
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("the request body ends before its root element is closed".into());
    }
    root.ok_or_else(|| "the request body has no root element".to_string())
}

/// An element to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct El {
    name: String,
    text: Option<String>,
    children: Vec<El>,
}

impl El {
    pub fn new(name: &str) -> Self {
        El {
            name: name.to_string(),
            text: None,
            children: Vec::new(),
        }
    }

    /// `<name>text</name>`.
    pub fn leaf(name: &str, text: impl ToString) -> Self {
        El {
            name: name.to_string(),
            text: Some(text.to_string()),
            children: Vec::new(),
        }
    }

    pub fn child(mut self, child: El) -> Self {
        self.children.push(child);
        self
    }

    pub fn push(&mut self, child: El) {
        self.children.push(child);
    }

    /// Adds `<name>text</name>` when there is a value.
    pub fn opt(mut self, name: &str, text: Option<impl ToString>) -> Self {
        if let Some(t) = text {
            self.children.push(El::leaf(name, t));
        }
        self
    }

    pub fn leaf_child(self, name: &str, text: impl ToString) -> Self {
        self.child(El::leaf(name, text))
    }

    pub fn children(mut self, children: impl IntoIterator<Item = El>) -> Self {
        self.children.extend(children);
        self
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "    ".repeat(depth);
        match (&self.text, self.children.is_empty()) {
            (Some(text), _) => {
                let _ = writeln!(out, "{indent}<{0}>{1}</{0}>", self.name, escape(text));
            }
            (None, true) => {
                let _ = writeln!(out, "{indent}<{}/>", self.name);
            }
            (None, false) => {
                let _ = writeln!(out, "{indent}<{}>", self.name);
                for c in &self.children {
                    c.write(out, depth + 1);
                }
                let _ = writeln!(out, "{indent}</{}>", self.name);
            }
        }
    }

    /// The whole document: declaration, then the element.
    pub fn document(&self) -> String {
        let mut out =
            String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n");
        self.write(&mut out, 0);
        out
    }
}

/// Text content only ever needs `&`, `<` and `>` escaped (no attributes are written).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_in_any_order_with_either_declaration() {
        let doc = parse(
            b"<?xml version='1.0' encoding='UTF-8'?>\n<Order><siteid>7</siteid><NAME>a &amp; b</NAME><Extra><X/></Extra></Order>",
        )
        .unwrap();
        assert!(doc.is("order"));
        assert_eq!(doc.text_of("SiteId"), Some("7"));
        assert_eq!(doc.text_of("Name"), Some("a & b"));
        let doc = parse(b"<?xml version=\"1.0\"?><Order>&#65;</Order>").unwrap();
        assert_eq!(doc.text, "A");
    }

    #[test]
    fn refuses_dtds_unknown_entities_and_broken_documents() {
        let bomb = b"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><Order>&lol2;</Order>";
        assert!(parse(bomb).unwrap_err().contains("DOCTYPE"));
        assert!(parse(b"<Order>&lol;</Order>").is_err());
        assert!(parse(b"<Order><Name>x</Name>").is_err());
        assert!(parse(b"<Order></Name>").is_err());
        assert!(parse(b"<A/><B/>").is_err());
        assert!(parse(b"").is_err());
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(parse(deep.as_bytes()).is_err());
    }

    #[test]
    fn writes_indented_documents_with_escaping() {
        let doc = El::new("R")
            .leaf_child("A", "x<y")
            .child(El::new("Empty"))
            .child(El::new("L").leaf_child("B", 1))
            .document();
        assert_eq!(
            doc,
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<R>\n    <A>x&lt;y</A>\n    <Empty/>\n    <L>\n        <B>1</B>\n    </L>\n</R>\n"
        );
    }
}
