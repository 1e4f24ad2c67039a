package config

import (
	"github.com/threatlockdown/tld/internal/xmlw"
)

// Global is the <global> section. Several <global> blocks merge; a setting
// written twice keeps its last value.
type Global struct {
	// Pos is the first <global> block; zero when the file has none.
	Pos Pos
	// JSONOutOutput writes alerts to alerts.json (<jsonout_output>, default yes).
	JSONOutOutput bool
	// AlertsLog writes alerts to alerts.log (<alerts_log>, default yes).
	AlertsLog bool
	// LogAll archives every event, alerting or not (<logall>, default no).
	LogAll bool
	// LogAllJSON archives every event as JSON (<logall_json>, default no).
	LogAllJSON bool
	// EmailNotification is <email_notification> (default no). tld does not
	// send alert e-mail yet and warns when it is yes.
	EmailNotification bool
}

// toleratedGlobal are the other <global> options of Wazuh 4.x (analysisd,
// maild, remoted, the manager's database): accepted without a warning for
// the modules that will read them.
var toleratedGlobal = map[string]bool{
	"email_to": true, "email_from": true, "email_reply_to": true, "email_idsname": true,
	"smtp_server": true, "helo_server": true, "email_maxperhour": true, "email_log_source": true,
	"white_list": true, "hostname_white_list": true, "agents_disconnection_time": true,
	"agents_disconnection_alert_time": true, "update_check": true, "cti-url": true, "limits": true,
	"integrity_checking": true, "rootkit_detection": true, "host_information": true,
	"compress_alerts": true, "queue_size": true, "forward_to": true, "stats": true,
	"memory_size": true, "custom_alert_output": true, "geoip_db_path": true,
	"prelude_output": true, "prelude_profile": true, "prelude_log_level": true,
	"zeromq_output": true, "zeromq_uri": true, "zeromq_server_cert": true, "zeromq_client_cert": true,
	"picviz_output": true, "picviz_socket": true, "rotate_interval": true, "max_output_size": true,
	"label": true,
}

func (d *decoder) global(n *xmlw.Node) {
	g := &d.cfg.Global
	if !g.Pos.IsValid() {
		g.Pos = pos(n)
	}
	for _, ch := range n.Children {
		switch ch.Name {
		case "jsonout_output":
			d.yesNo(ch, &g.JSONOutOutput)
		case "alerts_log":
			d.yesNo(ch, &g.AlertsLog)
		case "logall":
			d.yesNo(ch, &g.LogAll)
		case "logall_json":
			d.yesNo(ch, &g.LogAllJSON)
		case "email_notification":
			if d.yesNo(ch, &g.EmailNotification) && g.EmailNotification && !d.warned["email_notification"] {
				d.warned["email_notification"] = true
				d.c.warnf(pos(ch), "<email_notification> is yes, but ThreatLockDown does not send alert e-mail yet")
			}
		default:
			if !toleratedGlobal[ch.Name] {
				d.unknown(ch, n)
			}
		}
	}
}

// Alerts is the <alerts> section.
type Alerts struct {
	Pos Pos
	// LogAlertLevel is the lowest rule level that produces an alert
	// (<log_alert_level>, 0 to 16, default 3).
	LogAlertLevel int
	// EmailAlertLevel is the lowest level mailed (<email_alert_level>, 0 to
	// 16, default 12); kept for the mail output to come.
	EmailAlertLevel int
	// RetentionDays is how long the alert store keeps alerts
	// (<retention_days>, default 90; 0 keeps them for ever). alerts.json is
	// not pruned: rotate it as Wazuh's is.
	RetentionDays int
}

func (d *decoder) alerts(n *xmlw.Node) {
	a := &d.cfg.Alerts
	if !a.Pos.IsValid() {
		a.Pos = pos(n)
	}
	for _, ch := range n.Children {
		switch ch.Name {
		case "log_alert_level":
			d.intRange(ch, 0, 16, &a.LogAlertLevel)
		case "email_alert_level":
			d.intRange(ch, 0, 16, &a.EmailAlertLevel)
		case "retention_days":
			d.intRange(ch, 0, 36500, &a.RetentionDays)
		case "use_geoip":
			// Wazuh 4.x still accepts it; nothing to do.
		default:
			d.unknown(ch, n)
		}
	}
}
