//! `nix.buildMachines`: the remote builders, typed.

use std::collections::BTreeMap;

use nixconf_machines::BuildMachine;

use crate::evaluator::Evaluator;
use crate::tree::{Node, Value};
use crate::typecheck::join;

impl Evaluator<'_, '_> {
    pub(crate) fn build_machines(
        &mut self,
        nix: &BTreeMap<String, Node>,
    ) -> Option<Vec<BuildMachine>> {
        let Some(node) = nix.get("buildMachines") else {
            return Some(Vec::new());
        };
        let Value::List(items) = &node.value else {
            self.c.error(
                "nix.buildMachines",
                Some(node),
                format!("expected a list of build machines, got {}", node.describe()),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match self.build_machine(&format!("nix.buildMachines[{i}]"), item) {
                Some(m) => out.push(m),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn build_machine(&mut self, path: &str, node: &Node) -> Option<BuildMachine> {
        let attrs = self.c.attrs(path, node)?;
        self.c.known_keys(
            path,
            attrs,
            &[
                "hostName",
                "protocol",
                "system",
                "systems",
                "sshUser",
                "sshKey",
                "maxJobs",
                "speedFactor",
                "mandatoryFeatures",
                "supportedFeatures",
                "publicHostKey",
            ],
        );
        let before = self.c.errors.len();
        let host_name = self.opt(attrs, path, "hostName", |c, p, n| c.str(p, n));
        if let Ok(None) = host_name {
            self.c.error(
                &join(path, "hostName"),
                Some(node),
                "used but not defined: every build machine needs a hostName",
            );
        }
        let mut m = BuildMachine::new(host_name.ok().flatten().unwrap_or_default());
        if let Ok(Some(p)) = self.opt(attrs, path, "protocol", |c, p, n| {
            c.one_of(p, n, &[None, Some("ssh"), Some("ssh-ng")])
        }) {
            m.protocol = p;
        }
        let ns = |s: &mut Self, key: &str| -> Option<String> {
            s.opt(attrs, path, key, |c, p, n| c.nullable_str(p, n))
                .ok()
                .flatten()
                .flatten()
        };
        m.system = ns(self, "system");
        m.ssh_user = ns(self, "sshUser");
        m.ssh_key = ns(self, "sshKey");
        m.public_host_key = ns(self, "publicHostKey");
        let list = |s: &mut Self, key: &str| -> Vec<String> {
            s.opt(attrs, path, key, |c, p, n| c.str_list(p, n))
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        m.systems = list(self, "systems");
        m.mandatory_features = list(self, "mandatoryFeatures");
        m.supported_features = list(self, "supportedFeatures");
        let int = |s: &mut Self, key: &str| -> Option<i64> {
            s.opt(attrs, path, key, |c, p, n| c.int(p, n))
                .ok()
                .flatten()
        };
        m.max_jobs = int(self, "maxJobs").unwrap_or(1);
        m.speed_factor = int(self, "speedFactor").unwrap_or(1);
        (self.c.errors.len() == before).then_some(m)
    }
}
