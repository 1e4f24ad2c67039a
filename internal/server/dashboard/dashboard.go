// Package dashboard is the web user interface: server-rendered pages over
// the alert store (overview, security events, MITRE ATT&CK, cloud
// posture) with their stylesheet and images embedded in the binary.
//
// The pages work without JavaScript and under a strict Content Security
// Policy: no inline script or style, every asset served from /assets/.
// Every alert field is attacker-controlled, so values reach the page only
// through html/template's contextual escaping, cut to size in tables, with
// control and bidirectional characters made visible.
package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/auth"
	"github.com/threatlockdown/tld/internal/store"
)

// Store is what the pages read. *store.Store satisfies it.
type Store interface {
	Search(ctx context.Context, f store.Filter, p store.Page) (store.SearchResult, error)
	Get(ctx context.Context, id string) (store.StoredAlert, error)
	Histogram(ctx context.Context, f store.Filter, interval time.Duration) ([]store.TimeBucket, error)
	Top(ctx context.Context, f store.Filter, d store.Dimension, n int) ([]store.Bucket, error)
	Mitre(ctx context.Context, f store.Filter) ([]store.MitreCell, error)
	Posture(ctx context.Context, f store.PostureFilter, p store.Page) (store.PostureResult, error)
	PostureCounts(ctx context.Context, f store.PostureFilter) (store.PostureCounts, error)
	PostureTrend(ctx context.Context, f store.PostureFilter, from, to time.Time, interval time.Duration) ([]store.PosturePoint, error)
	Stats(ctx context.Context) (store.Stats, error)
}

// Options configures a Dashboard.
type Options struct {
	Store  Store
	Logger *slog.Logger     // nil: discard
	Now    func() time.Time // nil: time.Now
	// Product is the name and version shown in the footer.
	Product string
}

// Dashboard serves the pages. It is safe for concurrent use.
type Dashboard struct {
	store   Store
	log     *slog.Logger
	now     func() time.Time
	product string
	pages   map[string]*template.Template
	mux     *http.ServeMux
	assets  http.Handler
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// pageFiles are the page templates; each is parsed with the layout and
// the chart templates.
var pageFiles = []string{"overview", "events", "event", "mitre", "posture", "error"}

// New parses the templates and returns the dashboard.
func New(opts Options) (*Dashboard, error) {
	if opts.Store == nil {
		return nil, errors.New("dashboard: no store")
	}
	d := &Dashboard{store: opts.Store, log: opts.Logger, now: opts.Now, product: opts.Product, pages: map[string]*template.Template{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.product == "" {
		d.product = "ThreatLockDown"
	}
	for _, name := range pageFiles {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/charts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: parse template %s: %w", name, err)
		}
		d.pages[name] = t
	}
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("dashboard: assets: %w", err)
	}
	d.assets = assetHandler(sub)

	d.mux = http.NewServeMux()
	d.mux.HandleFunc("GET /{$}", d.overview)
	d.mux.HandleFunc("GET /events", d.events)
	d.mux.HandleFunc("GET /events/{id}", d.event)
	d.mux.HandleFunc("GET /mitre", d.mitre)
	d.mux.HandleFunc("GET /posture", d.posture)
	d.mux.HandleFunc("/", d.notFound)
	return d, nil
}

// ServeHTTP serves the pages: / (overview), /events, /events/{id},
// /mitre and /posture. Anything else is a 404 page.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mux.ServeHTTP(w, r)
}

// Assets serves the embedded stylesheet and images, at /assets/NAME or
// NAME. It needs no authentication: the login page uses it.
func (d *Dashboard) Assets() http.Handler { return d.assets }

var funcs = template.FuncMap{
	"cell":       cell,
	"trunc":      trunc,
	"clean":      clean,
	"levelClass": levelClass,
	"sevClass":   severityClass,
	"time":       fmtTime,
	"num":        fmtNum,
	"alertHref":  alertHref,
}

// layout is what every page shows around its content.
type layout struct {
	Title   string
	Active  string // nav entry: overview, events, mitre, posture
	User    string
	Role    string
	CSRF    string
	Product string
	Nav     []navLink
	Ranges  []navLink // the time-range selector
	Error   string    // shown above the content
	Footer  string    // an extra footer line (the MITRE attribution)
	Body    any
}

type navLink struct {
	ID     string
	Label  string
	Href   string
	Active bool
}

// newLayout fills the parts of the layout every page shares. The nav
// links and the range selector keep the request's time range (and the
// selector its filters), so moving between pages keeps the same window.
func (d *Dashboard) newLayout(r *http.Request, active, title string) layout {
	q := formQuery(r)
	l := layout{Title: title, Active: active, Product: d.product}
	if p, ok := auth.FromContext(r.Context()); ok {
		l.User, l.Role, l.CSRF = p.User, string(p.Role), p.CSRF
	}
	t := keep(q, timeParams)
	for _, n := range []struct{ id, label, path string }{
		{"overview", "Overview", "/"},
		{"events", "Security events", "/events"},
		{"mitre", "MITRE ATT&CK", "/mitre"},
		{"posture", "Cloud posture", "/posture"},
	} {
		l.Nav = append(l.Nav, navLink{ID: "nav-" + n.id, Label: n.label, Href: href(n.path, t), Active: n.id == active})
	}
	path := r.URL.Path
	if strings.HasPrefix(path, "/events/") {
		path = "/events" // an alert has no range; the selector leads to the list
	}
	cur := activeRange(q)
	for _, rg := range ranges {
		v := with(q, "range", rg, "from", "", "to", "")
		l.Ranges = append(l.Ranges, navLink{ID: "range-" + rg, Label: rg, Href: href(path, v), Active: rg == cur})
	}
	return l
}

// render writes a page, buffered so a template error becomes a clean 500
// rather than half a page.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, l layout) {
	var buf bytes.Buffer
	if err := d.pages[page].ExecuteTemplate(&buf, "layout", l); err != nil {
		d.log.ErrorContext(r.Context(), "render dashboard page", "page", page, "err", err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold alert data and the session's CSRF token: never cache them.
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// errorBody is the content of the error page.
type errorBody struct {
	Message string
}

// fail renders the error page. Store errors are logged with their cause
// and shown without it: they can name files and queries.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, status int, active, what string, err error) {
	msg := what
	switch {
	case status >= 500:
		d.log.ErrorContext(r.Context(), "dashboard", "path", r.URL.Path, "what", what, "err", err)
	case err != nil:
		msg = what + ": " + err.Error()
	}
	l := d.newLayout(r, active, http.StatusText(status))
	l.Body = errorBody{Message: msg}
	d.render(w, r, status, "error", l)
}

func (d *Dashboard) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		d.fail(w, r, http.StatusMethodNotAllowed, "", "The dashboard pages can only be read", nil)
		return
	}
	d.fail(w, r, http.StatusNotFound, "", "There is no page at this address", nil)
}

// storeFailed reports a store error: a cancelled request is not worth an
// error log line, anything else is a 500.
func (d *Dashboard) storeFailed(w http.ResponseWriter, r *http.Request, active, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	d.fail(w, r, http.StatusInternalServerError, active, "Could not "+what+"; the error has been logged", err)
}

// assetHandler serves the embedded files with a day of caching; the
// names are fixed and small, so no fingerprinting is needed.
func assetHandler(files fs.FS) http.Handler {
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Path
		for _, prefix := range []string{"/assets/", "/"} {
			if len(name) >= len(prefix) && name[:len(prefix)] == prefix {
				name = name[len(prefix):]
				break
			}
		}
		if st, err := fs.Stat(files, name); err != nil || st.IsDir() {
			http.NotFound(w, r) // no directory listings
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL = &url.URL{Path: "/" + name}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fileServer.ServeHTTP(w, r2)
	})
}
