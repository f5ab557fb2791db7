//! The machines-file lines the NixOS modules write from `nix.buildMachines`.

use nixconf_format::NixVersion;

use crate::Error;

/// One `nix.buildMachines` entry, with the option types of the 2023 NixOS
/// module (seed `003_…`): every field as the option holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildMachine {
    /// `hostName`.
    pub host_name: String,
    /// `protocol`: `Some("ssh")` (the default), `Some("ssh-ng")`, or `None`
    /// for no scheme at all.
    pub protocol: Option<String>,
    /// `system`: takes precedence over `systems` when set.
    pub system: Option<String>,
    /// `systems`.
    pub systems: Vec<String>,
    /// `sshUser`.
    pub ssh_user: Option<String>,
    /// `sshKey`.
    pub ssh_key: Option<String>,
    /// `maxJobs` (the option is a plain `int`; default 1).
    pub max_jobs: i64,
    /// `speedFactor` (the option is a plain `int`; default 1).
    pub speed_factor: i64,
    /// `mandatoryFeatures`.
    pub mandatory_features: Vec<String>,
    /// `supportedFeatures`.
    pub supported_features: Vec<String>,
    /// `publicHostKey`.
    pub public_host_key: Option<String>,
}

impl BuildMachine {
    /// A machine with the module's defaults: protocol `ssh`, one job,
    /// speed factor 1.
    pub fn new(host_name: impl Into<String>) -> Self {
        BuildMachine {
            host_name: host_name.into(),
            protocol: Some("ssh".to_owned()),
            max_jobs: 1,
            speed_factor: 1,
            ..BuildMachine::default()
        }
    }

    /// The line (with its newline) the 2023 module writes to
    /// `/etc/nix/machines` for a target Nix version: the store URI, then
    /// `-` for every empty column, supported features followed by the
    /// mandatory ones, and the host-key column only from Nix 2.4.
    ///
    /// ```
    /// use nixconf_machines::BuildMachine;
    /// let mut m = BuildMachine::new("builder.example.org");
    /// m.ssh_user = Some("nix".into());
    /// m.systems = vec!["x86_64-linux".into(), "aarch64-linux".into()];
    /// m.mandatory_features = vec!["big-parallel".into()];
    /// let v = "2.18.1".parse().unwrap();
    /// assert_eq!(m.to_module_line(&v),
    ///     "ssh://nix@builder.example.org x86_64-linux,aarch64-linux - 1 1 big-parallel big-parallel -\n");
    /// ```
    pub fn to_module_line(&self, nix_version: &NixVersion) -> String {
        let mut line = String::new();
        if let Some(p) = &self.protocol {
            line.push_str(p);
            line.push_str("://");
        }
        if let Some(u) = &self.ssh_user {
            line.push_str(u);
            line.push('@');
        }
        line.push_str(&self.host_name);
        line.push(' ');
        match &self.system {
            Some(s) => line.push_str(s),
            None => push_list_or_dash(&mut line, self.systems.iter()),
        }
        line.push(' ');
        line.push_str(self.ssh_key.as_deref().unwrap_or("-"));
        line.push_str(&format!(" {} {} ", self.max_jobs, self.speed_factor));
        push_list_or_dash(
            &mut line,
            self.supported_features
                .iter()
                .chain(&self.mandatory_features),
        );
        line.push(' ');
        push_list_or_dash(&mut line, self.mandatory_features.iter());
        if nix_version.is_at_least("2.4pre") {
            line.push(' ');
            line.push_str(self.public_host_key.as_deref().unwrap_or("-"));
        }
        line.push('\n');
        line
    }
}

impl BuildMachine {
    /// The line (with its newline) the 2013 module writes to
    /// `/etc/nix.machines` for `build-remote.pl` (Nix 1.x):
    /// `sshUser@hostName system(s) sshKey maxJobs speedFactor supported
    /// mandatory`, single spaces, no `-` placeholders (an empty list leaves
    /// an empty field) and no URI scheme. `index` names the machine in
    /// errors: that module required `sshUser` and `sshKey`.
    ///
    /// ```
    /// use nixconf_machines::BuildMachine;
    /// let mut m = BuildMachine::new("scratchy");
    /// m.ssh_user = Some("nix".into());
    /// m.ssh_key = Some("/root/.ssh/id_builder".into());
    /// m.system = Some("i686-linux".into());
    /// m.max_jobs = 8;
    /// assert_eq!(m.to_legacy_line(0).unwrap(),
    ///     "nix@scratchy i686-linux /root/.ssh/id_builder 8 1  \n");
    /// ```
    pub fn to_legacy_line(&self, index: usize) -> Result<String, Error> {
        let required = |value: &Option<String>, option: &str| -> Result<String, Error> {
            value.clone().ok_or_else(|| Error::Render {
                what: format!("nix.buildMachines[{index}].{option}"),
                reason: format!(
                    "the 2013 module requires {option} (it writes {option} into every line)"
                ),
            })
        };
        let user = required(&self.ssh_user, "sshUser")?;
        let key = required(&self.ssh_key, "sshKey")?;
        let systems = match &self.system {
            Some(s) => s.clone(),
            None => self.systems.join(","),
        };
        Ok(format!(
            "{user}@{} {systems} {key} {} {} {} {}\n",
            self.host_name,
            self.max_jobs,
            self.speed_factor,
            self.supported_features.join(","),
            self.mandatory_features.join(","),
        ))
    }
}

/// Items joined by commas, or `-` when there are none.
fn push_list_or_dash<'a>(out: &mut String, items: impl Iterator<Item = &'a String>) {
    let mut count = 0;
    for item in items {
        if count > 0 {
            out.push(',');
        }
        out.push_str(item);
        count += 1;
    }
    if count == 0 {
        out.push('-');
    }
}

/// The whole `/etc/nix/machines` text the 2023 module writes: every
/// machine's line, in order.
pub fn render_module_machines(machines: &[BuildMachine], nix_version: &NixVersion) -> String {
    machines
        .iter()
        .map(|m| m.to_module_line(nix_version))
        .collect()
}

/// The whole `/etc/nix.machines` text the 2013 module writes: every
/// machine's [`BuildMachine::to_legacy_line`], in order.
pub fn render_legacy_machines(machines: &[BuildMachine]) -> Result<String, Error> {
    let mut out = String::new();
    for (i, m) in machines.iter().enumerate() {
        out.push_str(&m.to_legacy_line(i)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_protocol_and_no_host_key_column_before_2_4() {
        let mut m = BuildMachine::new("localhost");
        m.protocol = None;
        m.system = Some("x86_64-linux".into());
        m.systems = vec!["ignored".into()];
        let v: NixVersion = "2.3.16".parse().unwrap();
        assert_eq!(m.to_module_line(&v), "localhost x86_64-linux - 1 1 - -\n");
    }

    #[test]
    fn empty_strings_still_count_as_items() {
        // The module joins lists with concatStringsSep: an empty element
        // leaves its comma behind, and a list of one empty string is not `-`.
        let mut m = BuildMachine::new("h");
        m.systems = vec![String::new()];
        m.supported_features = vec!["a".into(), String::new()];
        let v: NixVersion = "2.24".parse().unwrap();
        assert_eq!(m.to_module_line(&v), "ssh://h  - 1 1 a, - -\n");
    }

    #[test]
    fn legacy_line_keeps_empty_fields_and_separate_mandatory_features() {
        let mut m = BuildMachine::new("poochie");
        m.protocol = Some("ssh-ng".into());
        m.ssh_user = Some("nix".into());
        m.ssh_key = Some("/home/nix/.ssh/id".into());
        m.systems = vec!["i686-linux".into(), "x86_64-linux".into()];
        m.speed_factor = 2;
        m.supported_features = vec!["kvm".into()];
        m.mandatory_features = vec!["benchmark".into()];
        assert_eq!(
            render_legacy_machines(&[m]).unwrap(),
            "nix@poochie i686-linux,x86_64-linux /home/nix/.ssh/id 1 2 kvm benchmark\n"
        );
    }

    #[test]
    fn legacy_line_needs_ssh_user_and_key() {
        let mut a = BuildMachine::new("a");
        a.ssh_user = Some("u".into());
        a.ssh_key = Some("/k".into());
        let b = BuildMachine::new("b");
        let err = render_legacy_machines(&[a, b]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nix.buildMachines[1].sshUser: the 2013 module requires sshUser (it writes sshUser into every line)"
        );
    }
}
