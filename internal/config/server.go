package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/xmlw"
)

// Dashboard is the <dashboard> section, a ThreatLockDown extension: who
// may use the dashboard and the REST API that `tld run --listen` serves,
// and over TLS or not.
//
//	<dashboard>
//	  <users_file>users</users_file>          <!-- default: DATA/users -->
//	  <user name="ana" role="read-only">$2a$12$…bcrypt hash…</user>
//	  <ssl><certificate>tls.crt</certificate><key>tls.key</key></ssl>
//	  <session_timeout>8h</session_timeout>
//	</dashboard>
type Dashboard struct {
	Pos     Pos
	Enabled bool // <enabled>, default yes
	// UsersFile holds users managed by `tld users` and the API; empty
	// means DATA/users.
	UsersFile string
	Users     []DashboardUser
	// CertFile and KeyFile switch the listener to HTTPS.
	CertFile, KeyFile string
	SessionTimeout    time.Duration
}

// DashboardUser is a user written in the configuration (read-only to the
// API: change it in the file).
type DashboardUser struct {
	Pos          Pos
	Name         string
	Role         string // read-only or administrator
	PasswordHash string // bcrypt
}

func (d *decoder) dashboard(n *xmlw.Node) {
	db := &d.cfg.Dashboard
	db.Pos = pos(n)
	for _, ch := range n.Children {
		switch ch.Name {
		case "enabled":
			d.yesNo(ch, &db.Enabled)
		case "users_file":
			d.path(ch, &db.UsersFile)
		case "user":
			d.attrs(ch, "name", "role")
			u := DashboardUser{Pos: pos(ch), Role: "read-only"}
			u.Name, _ = ch.Attr("name")
			if r, ok := ch.Attr("role"); ok {
				u.Role = r
			}
			d.str(ch, &u.PasswordHash)
			switch {
			case u.Name == "" || strings.ContainsAny(u.Name, ": \t"):
				d.c.errorf(pos(ch), `<user> needs a name attribute without spaces or colons, as <user name="ana" role="read-only">bcrypt hash</user>`)
			case u.Role != "read-only" && u.Role != "administrator":
				d.c.errorf(pos(ch), "<user name=%q> role must be read-only or administrator, not %q", u.Name, u.Role)
			case !strings.HasPrefix(u.PasswordHash, "$2"):
				d.c.errorf(pos(ch), "<user name=%q> must hold a bcrypt password hash (make one with `tld users hash`), not a plain password", u.Name)
			default:
				db.Users = append(db.Users, u)
			}
		case "ssl":
			for _, s := range ch.Children {
				switch s.Name {
				case "certificate":
					d.path(s, &db.CertFile)
				case "key":
					d.path(s, &db.KeyFile)
				default:
					d.unknown(s, ch)
				}
			}
			if (db.CertFile == "") != (db.KeyFile == "") {
				d.c.errorf(pos(ch), "<ssl> needs both <certificate> and <key>")
			}
		case "session_timeout":
			d.duration(ch, "smhd", false, &db.SessionTimeout)
		default:
			d.unknown(ch, n)
		}
	}
}

// Indexer is Wazuh's <indexer> section: the OpenSearch cluster (Wazuh
// indexer). Wazuh's own manager uses it for vulnerability data and ships
// alerts with Filebeat; tld sends alerts to it only when
// <send_alerts>yes</send_alerts> (a ThreatLockDown option), so that an
// existing ossec.conf, whose default block names https://0.0.0.0:9200,
// does not start indexing anywhere unasked.
type Indexer struct {
	Pos        Pos
	Enabled    bool
	SendAlerts bool
	Hosts      []string
	CAFiles    []string
	CertFile   string
	KeyFile    string
	Username   string
	Password   Secret
	// IndexPrefix is the alert index prefix (default wazuh-alerts-4.x-).
	IndexPrefix string
	// DeadLetterFile receives documents the cluster rejects for good
	// (mapping errors); empty means DATA/alerts/indexer-rejected.json.
	DeadLetterFile string
}

// AlertsToIndexer reports whether alerts go to the indexer.
func (ix Indexer) AlertsToIndexer() bool { return ix.Enabled && ix.SendAlerts }

func (d *decoder) indexer(n *xmlw.Node) {
	ix := &d.cfg.Indexer
	*ix = Indexer{Pos: pos(n), Enabled: true}
	for _, ch := range n.Children {
		switch ch.Name {
		case "enabled":
			d.yesNo(ch, &ix.Enabled)
		case "send_alerts":
			d.yesNo(ch, &ix.SendAlerts)
		case "hosts":
			for _, h := range ch.Children {
				if h.Name != "host" {
					d.unknown(h, ch)
					continue
				}
				v, ok := d.text(h)
				if !ok {
					continue
				}
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
					d.c.errorf(pos(h), "<host> must be a URL such as https://indexer:9200, not %q", v)
					continue
				}
				ix.Hosts = append(ix.Hosts, v)
			}
		case "ssl":
			for _, s := range ch.Children {
				switch s.Name {
				case "certificate_authorities":
					for _, ca := range s.Children {
						if ca.Name != "ca" {
							d.unknown(ca, s)
							continue
						}
						if v, ok := d.text(ca); ok && v != "" {
							ix.CAFiles = append(ix.CAFiles, d.cfg.resolve(v))
						}
					}
				case "certificate":
					d.path(s, &ix.CertFile)
				case "key":
					d.path(s, &ix.KeyFile)
				default:
					d.unknown(s, ch)
				}
			}
		case "username":
			d.str(ch, &ix.Username)
		case "password":
			if v, ok := d.text(ch); ok {
				ix.Password = NewSecret(v)
			}
		case "index_prefix":
			d.str(ch, &ix.IndexPrefix)
		case "dead_letter_file":
			d.path(ch, &ix.DeadLetterFile)
		default:
			d.unknown(ch, n)
		}
	}
	if ix.Enabled && !ix.SendAlerts {
		d.c.warnf(pos(n), "<indexer> is read, but alerts go to it only with <send_alerts>yes</send_alerts> (a ThreatLockDown option); the dashboard uses the embedded store")
	}
	if ix.AlertsToIndexer() && len(ix.Hosts) == 0 {
		d.c.errorf(pos(n), "<indexer> with <send_alerts>yes</send_alerts> needs <hosts><host>https://…:9200</host></hosts>")
	}
}
