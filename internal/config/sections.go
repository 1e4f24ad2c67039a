package config

import (
	"strings"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// notYet lists the standard sections of a Wazuh 4.x ossec.conf that tld
// accepts but does not run yet. Those with a message get one warning (at
// their first occurrence) unless they are switched off with
// <disabled>yes</disabled> or <enabled>no</enabled>, because a user would
// otherwise believe they run; those with "" are accepted silently, their
// absence being harmless (logging, internal daemons, definitions used by
// other sections).
var notYet = map[string]string{
	"syscheck":                "file integrity monitoring does not run",
	"rootcheck":               "rootkit and policy checks do not run",
	"sca":                     "security configuration assessment does not run",
	"vulnerability-detection": "vulnerability detection does not run",
	"vulnerability-detector":  "vulnerability detection does not run",
	"integration":             "alerts are not forwarded to integrations",
	"active-response":         "no active response is executed",
	"remote":                  "agents and syslog senders cannot connect",
	"auth":                    "agent enrollment is not available",
	"cluster":                 "ThreatLockDown runs as a single node",
	"email_alerts":            "no alert e-mail is sent",
	"syslog_output":           "alerts are not forwarded over syslog",
	"database_output":         "alerts are not written to a database",
	"reports":                 "no reports are sent",
	"agentless":               "agentless monitoring does not run",
	"labels":                  "these labels are not added to alerts",
	"gcp-pubsub":              "Google Cloud Pub/Sub logs are not collected",
	"gcp-bucket":              "Google Cloud Storage logs are not collected",
	"github":                  "GitHub audit logs are not collected",
	"office365":               "Office 365 logs are not collected",
	"ms-graph":                "Microsoft Graph logs are not collected",
	"fluent-forward":          "events are not forwarded to Fluentd",
	"agent-key-polling":       "agent keys are not polled",

	"wodle:aws-s3":                 "AWS logs are not collected",
	"wodle:cis-cat":                "CIS-CAT scans do not run",
	"wodle:osquery":                "osquery results are not collected",
	"wodle:syscollector":           "system inventory is not collected",
	"wodle:docker-listener":        "Docker events are not collected",
	"wodle:command":                "the command does not run",
	"wodle:open-scap":              "OpenSCAP scans do not run",
	"wodle:agent-key-polling":      "agent keys are not polled",
	"wodle:vulnerability-detector": "vulnerability detection does not run",

	"logging":        "",
	"rule_test":      "", // tld logtest is always available
	"command":        "", // active-response definitions
	"client":         "",
	"client_buffer":  "",
	"socket":         "",
	"agent":          "",
	"agent-upgrade":  "",
	"task-manager":   "",
	"wdb":            "",
	"anti_tampering": "",
	"agent-info":     "",
}

// other handles a section that tld does not decode: a known Wazuh section
// not supported yet, or an unknown one.
func (d *decoder) other(key string, n *xmlw.Node) {
	msg, known := notYet[key]
	if !known {
		if name, ok := strings.CutPrefix(key, "wodle:"); ok {
			d.c.warnf(pos(n), "unknown wodle %q ignored", name)
		} else {
			d.c.warnf(pos(n), "unknown section <%s> ignored", n.Name)
		}
		return
	}
	d.cfg.Unsupported = append(d.cfg.Unsupported, Section{Name: key, Pos: pos(n)})
	if msg == "" || switchedOff(n) || d.warned[key] {
		return
	}
	d.warned[key] = true
	tag := "<" + n.Name + ">"
	if name, ok := strings.CutPrefix(key, "wodle:"); ok {
		tag = `<wodle name="` + name + `">`
	}
	d.c.warnf(pos(n), "%s is present but not yet supported by ThreatLockDown: %s", tag, msg)
}

// switchedOff reports whether a section says <disabled>yes</disabled> or
// <enabled>no</enabled>.
func switchedOff(n *xmlw.Node) bool {
	for _, ch := range n.Children {
		v := strings.TrimSpace(ch.Text)
		if (ch.Name == "disabled" && v == "yes") || (ch.Name == "enabled" && v == "no") {
			return true
		}
	}
	return false
}
