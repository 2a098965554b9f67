//! Joins the Mini App's ES modules into one script, so the page arrives with all of
//! its code in one response (on a phone's network every further file costs a round
//! trip, and a new connection two). Our modules keep to a small form, which this
//! checks and refuses otherwise: imports are `import { a, b as c } from './x.js';`
//! at the start of a line (several lines allowed), exports are `export` before a
//! `function`, `async function`, `const` or `class` at the start of a line, and a
//! dynamic import names its module literally (`import('./x.js')`).
//!
//! Each module becomes a function scope evaluated once, in dependency order, that
//! returns its exports; an import becomes a destructuring of the module it names,
//! and a dynamic import a promise of it. Exports are therefore copied once the
//! module has run, so `export let` (a binding that could change later) is refused;
//! for the rest, and for modules whose top level only declares and starts (as
//! ours), it runs as the modules loaded one by one do (the page also works that way).

use std::collections::{BTreeMap, HashSet};

/// Why the modules could not be joined.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleError {
    #[error("{module}: imports {target}, which the app does not have")]
    Missing { module: String, target: String },
    #[error("{module}: an import or export this bundler does not read: {statement}")]
    Unsupported { module: String, statement: String },
    #[error("modules import each other in a circle through {0} (make one import dynamic)")]
    Cycle(String),
}

/// One module, read.
struct Module {
    /// (`./x.js` resolved, [(exported name, local name)]).
    imports: Vec<(String, Vec<(String, String)>)>,
    dynamic: Vec<String>,
    exports: Vec<String>,
    body: String,
}

/// The modules reachable from `entry` joined into one script (for a
/// `<script type="module">`), `files` mapping each path (`js/main.js`) to its source.
pub fn bundle(files: &BTreeMap<String, String>, entry: &str) -> Result<String, BundleError> {
    let mut order = Vec::new();
    let mut modules = BTreeMap::new();
    visit(files, entry, &mut modules, &mut HashSet::new(), &mut order)?;
    let mut script =
        String::from("// The Mini App's modules, joined (api/src/http/mini_app/bundle.rs).\n");
    for path in &order {
        let module = &modules[path];
        script.push_str(&format!("const {} = (() => {{\n", variable(path)));
        for (target, names) in &module.imports {
            let bindings: Vec<String> = names
                .iter()
                .map(|(name, local)| {
                    if name == local {
                        name.clone()
                    } else {
                        format!("{name}: {local}")
                    }
                })
                .collect();
            script.push_str(&format!(
                "const {{ {} }} = {};\n",
                bindings.join(", "),
                variable(target)
            ));
        }
        script.push_str(&module.body);
        script.push_str(&format!(
            "\nreturn {{ {} }};\n}})();\n",
            module.exports.join(", ")
        ));
    }
    // Text inside a <script> element must not close it.
    Ok(script.replace("</script", "<\\/script"))
}

/// Depth first, dependencies before the module (post-order); dynamic imports are
/// visited too but may close a circle, since they run later.
fn visit(
    files: &BTreeMap<String, String>,
    path: &str,
    modules: &mut BTreeMap<String, Module>,
    open: &mut HashSet<String>,
    order: &mut Vec<String>,
) -> Result<(), BundleError> {
    if modules.contains_key(path) {
        return Ok(());
    }
    if !open.insert(path.to_owned()) {
        return Err(BundleError::Cycle(path.to_owned()));
    }
    let source = files.get(path).ok_or_else(|| BundleError::Missing {
        module: "the page".to_owned(),
        target: path.to_owned(),
    })?;
    let module = read(path, source)?;
    for (target, _) in &module.imports {
        if !files.contains_key(target) {
            return Err(BundleError::Missing {
                module: path.to_owned(),
                target: target.clone(),
            });
        }
        visit(files, target, modules, open, order)?;
    }
    open.remove(path);
    let dynamic = module.dynamic.clone();
    modules.insert(path.to_owned(), module);
    order.push(path.to_owned());
    for target in dynamic {
        if !files.contains_key(&target) {
            return Err(BundleError::Missing {
                module: path.to_owned(),
                target,
            });
        }
        if !open.contains(&target) {
            visit(files, &target, modules, open, order)?;
        }
    }
    Ok(())
}

fn read(path: &str, source: &str) -> Result<Module, BundleError> {
    let unsupported = |statement: &str| BundleError::Unsupported {
        module: path.to_owned(),
        statement: statement.trim().chars().take(80).collect(),
    };
    let mut module = Module {
        imports: Vec::new(),
        dynamic: Vec::new(),
        exports: Vec::new(),
        body: String::new(),
    };
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("import ") {
            let mut statement = line.to_owned();
            while !statement.trim_end().ends_with(';') {
                let Some(next) = lines.next() else {
                    return Err(unsupported(&statement));
                };
                statement.push(' ');
                statement.push_str(next.trim());
            }
            let (names, target) = import_of(&statement).ok_or_else(|| unsupported(&statement))?;
            module.imports.push((resolve(path, &target), names));
            module.body.push('\n');
            continue;
        }
        let line = if let Some(rest) = line.strip_prefix("export ") {
            let name = exported_name(rest).ok_or_else(|| unsupported(line))?;
            module.exports.push(name);
            rest
        } else {
            line
        };
        let line =
            dynamic_imports(path, line, &mut module.dynamic).ok_or_else(|| unsupported(line))?;
        module.body.push_str(&line);
        module.body.push('\n');
    }
    Ok(module)
}

/// `import { a, b as c } from './x.js';` → ([(a, a), (b, c)], ./x.js).
fn import_of(statement: &str) -> Option<(Vec<(String, String)>, String)> {
    let open = statement.find('{')?;
    let close = statement.find('}')?;
    let names = statement[open + 1..close]
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| match name.split_once(" as ") {
            Some((name, local)) => (name.trim().to_owned(), local.trim().to_owned()),
            None => (name.to_owned(), name.to_owned()),
        })
        .collect::<Vec<_>>();
    let rest = statement[close + 1..].trim().strip_prefix("from")?.trim();
    let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let (target, tail) = rest[1..].split_once(quote)?;
    // Exactly `;` after the module: no second statement or comment on the line.
    if tail.trim() != ";" {
        return None;
    }
    let target = target.to_owned();
    let plain = |name: &str| {
        name.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
    };
    (names
        .iter()
        .all(|(name, local)| plain(name) && plain(local))
        && target.starts_with('.'))
    .then_some((names, target))
}

/// The name an `export` line declares.
fn exported_name(rest: &str) -> Option<String> {
    let declaration = ["async function ", "function ", "const ", "class "]
        .iter()
        .find_map(|keyword| rest.strip_prefix(keyword))?;
    let name: String = declaration
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// `import('./x.js')` → `Promise.resolve(<x>)`, noting the module; `None` for a
/// dynamic import of anything else (it would load a second copy of the modules).
fn dynamic_imports(path: &str, line: &str, found: &mut Vec<String>) -> Option<String> {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("import(") {
        let after = &rest[at + "import(".len()..];
        let quote = after.chars().next();
        let literal = quote
            .filter(|c| *c == '\'' || *c == '"')
            .and_then(|q| after[1..].split_once(q))
            .and_then(|(target, tail)| tail.strip_prefix(')').map(|tail| (target, tail)));
        match literal {
            Some((target, tail)) if target.starts_with('.') => {
                let resolved = resolve(path, target);
                out.push_str(&rest[..at]);
                out.push_str(&format!("Promise.resolve({})", variable(&resolved)));
                found.push(resolved);
                rest = tail;
            }
            _ => return None,
        }
    }
    out.push_str(rest);
    Some(out)
}

/// `./x.js` or `../x.js` relative to the directory of `from`.
fn resolve(from: &str, target: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The variable holding a module's exports.
fn variable(path: &str) -> String {
    let name: String = path
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("__module_{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(path, source)| ((*path).to_owned(), (*source).to_owned()))
            .collect()
    }

    #[test]
    fn dependencies_come_first_and_imports_become_bindings() {
        let app = files(&[
            (
                "js/main.js",
                "import { h, t as say } from './ui.js';\nimport {\n  later,\n} from './screens/a.js';\nh(say('x'));\n",
            ),
            (
                "js/ui.js",
                "export function h(x) { return x; }\nexport const t = (x) => x;\nconst hidden = 1;\n",
            ),
            (
                "js/screens/a.js",
                "import { h } from '../ui.js';\nexport async function later() { const m = await import('./b.js'); return m; }\n",
            ),
            (
                "js/screens/b.js",
                "import { later } from './a.js';\nexport const b = later;\n",
            ),
        ]);
        let script = bundle(&app, "js/main.js").expect("it bundles");
        let ui = script.find("const __module_js_ui_js").expect("ui");
        let a = script.find("const __module_js_screens_a_js").expect("a");
        let b = script.find("const __module_js_screens_b_js").expect("b");
        let main = script.find("const __module_js_main_js").expect("main");
        assert!(ui < a && a < main && a < b, "{script}");
        assert!(
            script.contains("const { h, t: say } = __module_js_ui_js;"),
            "{script}"
        );
        assert!(
            script.contains("Promise.resolve(__module_js_screens_b_js)"),
            "{script}"
        );
        assert!(script.contains("return { h, t };"), "{script}");
        assert!(!script.contains("import "), "{script}");
        assert!(!script.contains("export "), "{script}");
    }

    #[test]
    fn what_it_cannot_read_is_refused() {
        let default = files(&[("js/main.js", "export default 1;\n")]);
        assert!(matches!(
            bundle(&default, "js/main.js"),
            Err(BundleError::Unsupported { .. })
        ));
        for unread in [
            "export let x = 1;\n",
            "import { x } from './a.js'; const y = 2;\n",
            "import { x } from './a.js' // no semicolon\nconst y = 2;\n",
            "const m = import(path);\n",
            "const m = import('/js/a.js');\n",
        ] {
            let app = files(&[("js/main.js", unread), ("js/a.js", "export const x = 1;\n")]);
            assert!(
                matches!(
                    bundle(&app, "js/main.js"),
                    Err(BundleError::Unsupported { .. })
                ),
                "{unread}"
            );
        }
        let missing = files(&[("js/main.js", "import { x } from './nowhere.js';\n")]);
        assert!(matches!(
            bundle(&missing, "js/main.js"),
            Err(BundleError::Missing { .. })
        ));
        let circle = files(&[
            (
                "js/a.js",
                "import { b } from './b.js';\nexport const a = 1;\n",
            ),
            (
                "js/b.js",
                "import { a } from './a.js';\nexport const b = 1;\n",
            ),
        ]);
        assert_eq!(
            bundle(&circle, "js/a.js"),
            Err(BundleError::Cycle("js/a.js".to_owned()))
        );
    }

    #[test]
    fn a_closing_script_tag_in_the_code_cannot_end_the_element() {
        let app = files(&[("js/main.js", "const s = '</script>';\n")]);
        let script = bundle(&app, "js/main.js").expect("it bundles");
        assert!(script.contains("'<\\/script>'"), "{script}");
    }
}
