package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/threatlockdown/tld/internal/auth"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/output/opensearch"
	"github.com/threatlockdown/tld/internal/pipeline"
	"github.com/threatlockdown/tld/internal/server"
	"github.com/threatlockdown/tld/internal/server/dashboard"
	"github.com/threatlockdown/tld/internal/store"
)

// initialPasswordFile holds the generated administrator password, under
// the data directory, until the user changes it.
const initialPasswordFile = "initial-admin-password"

// usersPath is where the dashboard's users file is.
func usersPath(cfg *config.Config, dataDir string) string {
	if cfg.Dashboard.UsersFile != "" {
		return cfg.Dashboard.UsersFile
	}
	return filepath.Join(dataDir, "users")
}

// readUsers reads the users file and adds the users written in the
// configuration.
func readUsers(cfg *config.Config, dataDir string) (*auth.Users, error) {
	users, err := auth.LoadUsersFile(usersPath(cfg, dataDir))
	if err != nil {
		return nil, err
	}
	for _, u := range cfg.Dashboard.Users {
		if err := users.AddConfigured(u.Name, auth.Role(u.Role), u.PasswordHash); err != nil {
			return nil, fmt.Errorf("%s: <user name=%q>: %w", u.Pos, u.Name, err)
		}
	}
	return users, nil
}

// loadUsers reads the users; when there is none at all it creates the
// administrator "admin" with a random password written to
// DATA/initial-admin-password.
func loadUsers(cfg *config.Config, dataDir string) (users *auth.Users, created bool, err error) {
	if users, err = readUsers(cfg, dataDir); err != nil {
		return nil, false, err
	}
	created, err = users.EnsureInitialAdmin(filepath.Join(dataDir, initialPasswordFile))
	return users, created, err
}

// metricsRegistry gathers the pipeline's, the store's and the process's
// metrics for /metrics.
func metricsRegistry(p *pipeline.Pipeline, st *store.Store, indexer *opensearch.Output) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), p.Collector(), storeCollector{st: st})
	if indexer != nil {
		reg.MustRegister(indexerCollector{out: indexer})
	}
	return reg
}

var (
	storeAlertsDesc = prometheus.NewDesc("tld_store_alerts", "Alerts held by the alert store.", nil, nil)
	storeBytesDesc  = prometheus.NewDesc("tld_store_size_bytes", "Size of the alert store's files.", nil, nil)
	storeRecsDesc   = prometheus.NewDesc("tld_store_recommendations", "Defender recommendation states (recommendation × resource) tracked.", nil, nil)
	indexerDesc     = prometheus.NewDesc("tld_indexer_documents_total", "Alerts sent to the indexer, by outcome.", []string{"outcome"}, nil)
)

type storeCollector struct{ st *store.Store }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- storeAlertsDesc
	ch <- storeBytesDesc
	ch <- storeRecsDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.st.Stats(context.Background())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(storeAlertsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(storeAlertsDesc, prometheus.GaugeValue, float64(s.Alerts))
	ch <- prometheus.MustNewConstMetric(storeBytesDesc, prometheus.GaugeValue, float64(s.SizeBytes))
	ch <- prometheus.MustNewConstMetric(storeRecsDesc, prometheus.GaugeValue, float64(s.Recommendations))
}

type indexerCollector struct{ out *opensearch.Output }

func (c indexerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- indexerDesc }

func (c indexerCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.out.Stats()
	for outcome, n := range map[string]int64{"indexed": s.Indexed, "retried": s.Retried, "rejected": s.Rejected, "dead_lettered": s.DeadLettered} {
		ch <- prometheus.MustNewConstMetric(indexerDesc, prometheus.CounterValue, float64(n), outcome)
	}
}

// indexerOutput builds the OpenSearch output from <indexer>.
func indexerOutput(ctx context.Context, cfg *config.Config, dataDir string, logger *slog.Logger) (*opensearch.Output, error) {
	ix := cfg.Indexer
	dead := ix.DeadLetterFile
	if dead == "" {
		dead = filepath.Join(dataDir, "alerts", "indexer-rejected.json")
	}
	out, err := opensearch.New(ctx, opensearch.Options{
		Addresses: ix.Hosts, Username: ix.Username, Password: ix.Password,
		CAFiles: ix.CAFiles, CertFile: ix.CertFile, KeyFile: ix.KeyFile,
		IndexPrefix: ix.IndexPrefix, TemplateInstall: true, DeadLetterPath: dead,
		Logger: logger.With("output", "opensearch"),
	})
	if err != nil {
		return nil, fmt.Errorf("<indexer> (%s): %w", ix.Pos, err)
	}
	return out, nil
}

// dashboardServer is the HTTP server of `tld run`: dashboard, REST API,
// /healthz and /metrics.
type dashboardServer struct {
	wg   sync.WaitGroup
	stop context.CancelFunc
	err  error
}

// startServer listens on addr and serves until Close. It prints where the
// dashboard is and how to sign in.
func startServer(ctx context.Context, addr string, cfg *config.Config, dataDir string, st *store.Store, reg prometheus.Gatherer, health func(context.Context) any, logger *slog.Logger, out io.Writer) (*dashboardServer, error) {
	users, created, err := loadUsers(cfg, dataDir)
	if err != nil {
		return nil, fmt.Errorf("dashboard users: %w", err)
	}
	dash, err := dashboard.New(dashboard.Options{Store: st, Logger: logger.With("component", "dashboard"), Product: "ThreatLockDown " + Version})
	if err != nil {
		return nil, err
	}
	opts := server.Options{
		Store: st, Users: users, Dashboard: dash, Assets: dash.Assets(), Gatherer: reg, Health: health,
		Logger: logger.With("component", "http"), TLS: cfg.Dashboard.CertFile != "",
		RetentionDays: cfg.Alerts.RetentionDays,
		Sessions:      auth.SessionConfig{Idle: cfg.Dashboard.SessionTimeout},
	}
	if !cfg.Dashboard.Enabled {
		// The API, /healthz and /metrics stay; the pages go.
		opts.Dashboard, opts.Assets = nil, nil
	}
	srv, err := server.New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (choose another address with --listen, or --listen '' to serve nothing)", addr, err)
	}
	scheme := "http"
	if cfg.Dashboard.CertFile != "" {
		scheme = "https"
	}
	base := fmt.Sprintf("%s://%s/", scheme, ln.Addr())
	if cfg.Dashboard.Enabled {
		fmt.Fprintf(out, "Dashboard: %s\n", base)
		pwFile := filepath.Join(dataDir, initialPasswordFile)
		if _, err := os.Stat(pwFile); err == nil {
			what := "Sign in as admin with the password in"
			if !created {
				what = "First sign-in: admin, with the password in"
			}
			fmt.Fprintf(out, "%s %s (change it with `tld users passwd admin`).\n", what, pwFile)
		}
	}
	logger.Info("serving", "addr", ln.Addr().String(), "dashboard", cfg.Dashboard.Enabled, "api", base+"api/v1/", "tls", cfg.Dashboard.CertFile != "")

	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ds := &dashboardServer{stop: cancel}
	ds.wg.Add(1)
	go func() {
		defer ds.wg.Done()
		if err := srv.Serve(sctx, ln, cfg.Dashboard.CertFile, cfg.Dashboard.KeyFile); err != nil && !errors.Is(err, context.Canceled) {
			logger.Error("HTTP server stopped", "err", err)
			ds.err = err
		}
	}()
	return ds, nil
}

// Close stops the server and waits for it.
func (d *dashboardServer) Close() {
	d.stop()
	d.wg.Wait()
}
