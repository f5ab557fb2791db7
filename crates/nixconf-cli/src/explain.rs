//! `nixconf explain`: why a setting has its value.

use std::path::PathBuf;

use clap::Args;
use nixconf_format::{FsSource, Network, NixVersion, ShowOptions, Trace};
use nixconf_options::{evaluate_with, Format};

use crate::generation::GenerationArgs;
use crate::Outcome;

/// Arguments of `nixconf explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The setting (its name, an alias, or `extra-NAME`).
    setting: String,
    /// Explain the value a configuration gives it, instead of a live
    /// installation's.
    #[arg(long, value_name = "FILE", conflicts_with = "root")]
    config: Option<PathBuf>,
    /// The root of the live installation [default: /]
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Read the live installation as this Nix version [default: the Nix
    /// installed on the root]
    #[arg(long, value_name = "V")]
    nix_version: Option<NixVersion>,
    /// Print the explanation as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    module: GenerationArgs,
}

pub fn run(args: ExplainArgs) -> Result<Outcome, String> {
    match &args.config {
        Some(config) => explain_config(&args, config),
        None => explain_live(&args),
    }
}

fn explain_live(args: &ExplainArgs) -> Result<Outcome, String> {
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("/"));
    let version = args
        .nix_version
        .clone()
        .or_else(|| nixconf_import::detect(&root).nix_version.map(|(v, _)| v))
        .or_else(|| {
            (root == std::path::Path::new("/"))
                .then(|| nixconf_format::installed_version("nix".as_ref()).ok())
                .flatten()
        })
        .unwrap_or_else(nixconf_format::newest_version);
    let options = ShowOptions {
        version: version.clone(),
        network: Network::Online,
    };
    let conf_dir = root.join("etc/nix");
    let trace = nixconf_format::trace(&FsSource, &conf_dir, &options, &args.setting)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("Nix {version} has no setting `{}`", args.setting))?;
    // NIX_CONFIG is read by clients after the files (not by the daemon).
    let from_env: Vec<String> = std::env::var("NIX_CONFIG")
        .ok()
        .map(|text| {
            text.lines()
                .filter(|l| {
                    let name = l.split('=').next().unwrap_or("").trim();
                    let base = name.strip_prefix("extra-").unwrap_or(name);
                    nixconf_format::setting_info(base, &version)
                        .is_some_and(|(canonical, _)| canonical == trace.setting)
                })
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let stdout = if args.json {
        let steps: Vec<serde_json::Value> = trace
            .steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "file": s.location.file, "line": s.location.line, "column": s.location.column,
                    "name": s.written_name, "value": s.value, "appends": s.appends, "alias": s.alias,
                })
            })
            .collect();
        serde_json::to_string_pretty(&serde_json::json!({
            "setting": trace.setting,
            "nixVersion": version.to_string(),
            "steps": steps,
            "value": trace.value,
            "default": trace.default,
            "nixConfig": from_env,
        }))
        .map_err(|e| e.to_string())?
            + "\n"
    } else {
        describe_trace(&trace, &version, &conf_dir, &from_env)
    };
    Ok(Outcome {
        stdout,
        failed: false,
    })
}

fn describe_trace(
    trace: &Trace,
    version: &NixVersion,
    conf_dir: &std::path::Path,
    env: &[String],
) -> String {
    let mut out = String::new();
    let shown = trace.value.as_deref().or(trace.default).unwrap_or("");
    out.push_str(&format!("{} = {shown}\n", trace.setting));
    if trace.steps.is_empty() {
        out.push_str(&format!(
            "  no line of {}/nix.conf (or what it includes) sets it: Nix {version}'s default{}\n",
            conf_dir.display(),
            trace.default.map_or(String::new(), |d| format!(" ({d})")),
        ));
    }
    for step in &trace.steps {
        let how = match (step.appends, step.alias) {
            (true, _) => "appends",
            (false, true) => "sets (through an alias)",
            (false, false) => "sets",
        };
        // Messages name files relative to the configuration directory.
        let file = conf_dir.join(&step.location.file);
        out.push_str(&format!(
            "  {}:{}:{}: {how}: {} = {}\n",
            file.display(),
            step.location.line,
            step.location.column,
            step.written_name,
            step.value
        ));
    }
    out.push_str(&lost_appends(trace.steps.iter().map(|s| {
        let file = conf_dir.join(&s.location.file);
        (s.appends, format!("{}:{}", file.display(), s.location.line))
    })));
    if version.is_at_least("2.16pre")
        && trace.setting == "experimental-features"
        && !trace.steps.is_empty()
    {
        out.push_str(
            "  (from Nix 2.16, experimental-features lines are read before the other settings)\n",
        );
    }
    for line in env {
        out.push_str(&format!(
            "  NIX_CONFIG: {line} (clients only: the daemon does not read it)\n"
        ));
    }
    out
}

fn explain_config(args: &ExplainArgs, path: &std::path::Path) -> Result<Outcome, String> {
    let file = path.display().to_string();
    let options = args.module.eval_options();
    // Read as every command reads it: nixconf's own options included.
    let eval = nixconf_options::evaluate_file_with(path, options)
        .and_then(|eval| nixconf_options::assertions_hold(&eval).map(|()| eval))
        .map_err(|e| crate::eval::describe_error(&e))?;
    let format =
        Format::from_path(path).ok_or_else(|| format!("{file}: use a .toml or .json file"))?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {file}: {e}"))?;
    let name = args
        .setting
        .strip_prefix("nix.settings.")
        .unwrap_or(&args.setting)
        .to_owned();
    let name = name
        .strip_prefix("extra-")
        .map_or(name.clone(), str::to_owned);
    let extra = format!("extra-{name}");

    // As Nix reads the nix.conf this configuration renders.
    let trace = match (&eval.nix_conf, &eval.nix_version) {
        (Some(conf), Some(version)) => {
            let mut files = nixconf_format::MemSource::new();
            files.insert("/etc/nix/nix.conf", conf.as_str());
            let options = ShowOptions {
                version: version.clone(),
                network: Network::Online,
            };
            nixconf_format::trace(&files, "/etc/nix".as_ref(), &options, &name)
                .ok()
                .flatten()
        }
        _ => None,
    };
    let mut value = trace
        .as_ref()
        .and_then(|t| t.value.clone().or_else(|| t.default.map(str::to_owned)));
    let mut steps: Vec<String> = trace
        .iter()
        .flat_map(|t| &t.steps)
        .map(|s| {
            format!(
                "nix.conf:{}: {}: {} = {}",
                s.location.line,
                if s.appends { "appends" } else { "sets" },
                s.written_name,
                s.value
            )
        })
        .collect();
    if trace.is_none() {
        // A Nix the settings schema does not cover (1.x): the lines of
        // the rendered nix.conf, last one wins.
        for (n, line) in eval.nix_conf.as_deref().unwrap_or("").lines().enumerate() {
            if let Some((key, v)) = line.split_once(" = ") {
                if key.trim() == name {
                    steps.push(format!("nix.conf:{}: sets: {line}", n + 1));
                    value = Some(v.to_owned());
                }
            }
        }
    }

    // What you wrote, and renamed options that lead to it.
    let tree: serde_json::Value = match format {
        Format::Json => serde_json::from_str(&text).map_err(|e| e.to_string())?,
        _ => {
            let t: toml::Value = toml::from_str(&text).map_err(|e| e.to_string())?;
            serde_json::to_value(t).map_err(|e| e.to_string())?
        }
    };
    let pointer = |key: &str| {
        format!(
            "/nix/settings/{}",
            key.replace('~', "~0").replace('/', "~1")
        )
    };
    let yours: Vec<(String, serde_json::Value)> = [name.as_str(), extra.as_str()]
        .into_iter()
        .filter_map(|k| tree.pointer(&pointer(k)).map(|v| (k.to_owned(), v.clone())))
        .collect();
    let renamed: Vec<String> = eval
        .warnings
        .iter()
        .filter(|w| w.to == format!("nix.settings.{name}"))
        .map(|w| w.from.clone())
        .collect();

    // What the module gives without your definitions.
    let mut without = tree.clone();
    if let Some(s) = without
        .pointer_mut("/nix/settings")
        .and_then(|s| s.as_object_mut())
    {
        s.remove(&name);
        s.remove(&extra);
    }
    for from in &renamed {
        let mut parts: Vec<&str> = from.split('.').collect();
        let last = parts.pop().unwrap_or_default();
        let pointer = format!("/{}", parts.join("/"));
        if let Some(o) = without
            .pointer_mut(&pointer)
            .and_then(|o| o.as_object_mut())
        {
            o.remove(last);
        }
    }
    let module_only: Vec<String> =
        evaluate_with(&without.to_string(), Format::Json, &file, options)
            .ok()
            .and_then(|e| e.settings)
            .map(|s| {
                [name.as_str(), extra.as_str()]
                    .into_iter()
                    .filter_map(|k| s.get(k).map(|v| format!("{k} = {}", v.render())))
                    .collect()
            })
            .unwrap_or_default();

    let stdout = if args.json {
        let yours: serde_json::Map<String, serde_json::Value> = yours.into_iter().collect();
        serde_json::to_string_pretty(&serde_json::json!({
            "setting": name,
            "value": value,
            "yours": yours,
            "renamedFrom": renamed,
            "withoutYours": module_only,
            "nixConf": steps,
        }))
        .map_err(|e| e.to_string())?
            + "\n"
    } else {
        let mut out = format!(
            "{name} = {}\n",
            value
                .as_deref()
                .unwrap_or("(not set: Nix's default applies)")
        );
        for (key, v) in &yours {
            out.push_str(&format!("  yours: {file} sets nix.settings.{key} = {v}\n"));
        }
        for from in &renamed {
            out.push_str(&format!(
                "  yours: {file} sets `{from}`, renamed to nix.settings.{name}\n"
            ));
        }
        if eval.module == nixconf_options::ModuleGeneration::Nixos2013 {
            out.push_str(
                "  the 2013 module has no nix.settings: its own options (nix.useChroot, \
                 nix.maxJobs, ...) write these lines\n",
            );
        } else if yours.is_empty() && renamed.is_empty() {
            out.push_str(&format!("  yours: {file} does not set it\n"));
        }
        if eval.module != nixconf_options::ModuleGeneration::Nixos2013 {
            if module_only.is_empty() {
                out.push_str("  the NixOS module: does not set it\n");
            } else {
                let merged = matches!(
                    name.as_str(),
                    "substituters" | "trusted-public-keys" | "trusted-users" | "system-features"
                );
                out.push_str(&format!(
                    "  the NixOS module, without yours: {}{}\n",
                    module_only.join(", "),
                    if merged && !(yours.is_empty() && renamed.is_empty()) {
                        " (its definitions are merged with yours; a mkForce definition replaces them)"
                    } else {
                        ""
                    }
                ));
            }
        }
        for step in &steps {
            out.push_str(&format!("  {step}\n"));
        }
        out.push_str(&lost_appends(
            trace
                .iter()
                .flat_map(|t| &t.steps)
                .map(|s| (s.appends, format!("nix.conf:{}", s.location.line))),
        ));
        out
    };
    Ok(Outcome {
        stdout,
        failed: false,
    })
}

/// A note for `extra-` appends that a later plain assignment throws away
/// (the 2023 NixOS module sorts `extra-foo` before `foo`: nix#9487).
fn lost_appends(steps: impl Iterator<Item = (bool, String)>) -> String {
    let mut pending: Vec<String> = Vec::new();
    let mut out = String::new();
    for (appends, line) in steps {
        if appends {
            pending.push(line);
        } else {
            for lost in pending.drain(..) {
                let line = &line;
                out.push_str(&format!(
                    "  note: the append at {lost} is lost: {line} sets the value again \
                     (nix#9487; the 2026 NixOS module writes extra- lines last)\n"
                ));
            }
        }
    }
    out
}
