package server

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/threatlockdown/tld/internal/server/query"
	"github.com/threatlockdown/tld/internal/store"
)

// Defaults and limits of the aggregation endpoints.
const (
	defaultTopSize   = 10
	maxTopSize       = 100
	defaultTrendSpan = 30 * 24 * time.Hour
)

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	f, err := query.ParseFilter(v, s.now())
	if err != nil {
		queryError(w, err)
		return
	}
	p, err := query.ParsePage(v)
	if err != nil {
		queryError(w, err)
		return
	}
	res, err := s.store.Search(r.Context(), f, p)
	if err != nil {
		s.storeError(w, r, "alert search", err)
		return
	}
	if res.Alerts == nil {
		res.Alerts = []store.AlertSummary{}
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "no alert with this id")
		return
	}
	if err != nil {
		s.storeError(w, r, "alert lookup", err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// HistogramResponse is the body of GET /api/v1/aggregations/histogram.
type HistogramResponse struct {
	Interval        string             `json:"interval"`
	IntervalSeconds int64              `json:"interval_seconds"`
	Buckets         []store.TimeBucket `json:"buckets"`
}

func (s *Server) handleHistogram(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	now := s.now()
	f, err := query.ParseFilter(v, now)
	if err != nil {
		queryError(w, err)
		return
	}
	from, to := f.From, f.To
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		// range=all: the interval is sized to what the store holds.
		st, err := s.store.Stats(r.Context())
		if err != nil {
			s.storeError(w, r, "store statistics", err)
			return
		}
		from = st.Oldest
		if from.IsZero() || !from.Before(to) {
			from = to.Add(-query.DefaultRange)
		}
	}
	interval, err := query.ParseInterval(v, "interval", from, to)
	if err != nil {
		queryError(w, err)
		return
	}
	buckets, err := s.store.Histogram(r.Context(), f, interval)
	if err != nil {
		s.storeError(w, r, "histogram", err)
		return
	}
	if buckets == nil {
		buckets = []store.TimeBucket{}
	}
	writeJSON(w, http.StatusOK, HistogramResponse{
		Interval:        query.FormatDuration(interval),
		IntervalSeconds: int64(interval / time.Second),
		Buckets:         buckets,
	})
}

// Dimensions are the values "by" accepts on GET /api/v1/aggregations/top.
var Dimensions = []store.Dimension{
	store.ByRule, store.ByGroup, store.ByLevel, store.ByAgent, store.ByLocation,
	store.ByTactic, store.ByTechnique, store.ByResourceType, store.ByRegion,
}

// TopResponse is the body of GET /api/v1/aggregations/top.
type TopResponse struct {
	By      store.Dimension `json:"by"`
	Buckets []store.Bucket  `json:"buckets"`
}

func (s *Server) handleTop(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	f, err := query.ParseFilter(v, s.now())
	if err != nil {
		queryError(w, err)
		return
	}
	by := store.ByRule
	if x := v.Get("by"); x != "" {
		by = store.Dimension(x)
		if !validDimension(by) {
			badRequest(w, &query.Error{Param: "by", Reason: "want one of rule, group, level, agent, location, tactic, technique, resource_type, region"})
			return
		}
	}
	size, err := intParam(v, "size", defaultTopSize, 1, maxTopSize)
	if err != nil {
		queryError(w, err)
		return
	}
	buckets, err := s.store.Top(r.Context(), f, by, size)
	if err != nil {
		s.storeError(w, r, "top "+string(by), err)
		return
	}
	if buckets == nil {
		buckets = []store.Bucket{}
	}
	writeJSON(w, http.StatusOK, TopResponse{By: by, Buckets: buckets})
}

func validDimension(d store.Dimension) bool {
	for _, x := range Dimensions {
		if x == d {
			return true
		}
	}
	return false
}

// MitreResponse is the body of GET /api/v1/aggregations/mitre.
type MitreResponse struct {
	Cells []store.MitreCell `json:"cells"`
}

func (s *Server) handleMitre(w http.ResponseWriter, r *http.Request) {
	f, err := query.ParseFilter(r.URL.Query(), s.now())
	if err != nil {
		queryError(w, err)
		return
	}
	cells, err := s.store.Mitre(r.Context(), f)
	if err != nil {
		s.storeError(w, r, "MITRE matrix", err)
		return
	}
	if cells == nil {
		cells = []store.MitreCell{}
	}
	writeJSON(w, http.StatusOK, MitreResponse{Cells: cells})
}

func (s *Server) handlePosture(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	f, err := query.ParsePostureFilter(v)
	if err != nil {
		queryError(w, err)
		return
	}
	p, err := query.ParsePage(v)
	if err != nil {
		queryError(w, err)
		return
	}
	// Recommendations have one fixed order (unhealthy, severity, newest).
	p.Sort, p.Asc = "", false
	res, err := s.store.Posture(r.Context(), f, p)
	if err != nil {
		s.storeError(w, r, "posture", err)
		return
	}
	if res.Items == nil {
		res.Items = []store.Recommendation{}
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) handlePostureSummary(w http.ResponseWriter, r *http.Request) {
	f, err := query.ParsePostureFilter(r.URL.Query())
	if err != nil {
		queryError(w, err)
		return
	}
	c, err := s.store.PostureCounts(r.Context(), f)
	if err != nil {
		s.storeError(w, r, "posture summary", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// TrendResponse is the body of GET /api/v1/posture/trend.
type TrendResponse struct {
	From     time.Time            `json:"from"`
	To       time.Time            `json:"to"`
	Interval string               `json:"interval"`
	Points   []store.PosturePoint `json:"points"`
}

func (s *Server) handlePostureTrend(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	now := s.now().UTC()
	f, err := query.ParsePostureFilter(v)
	if err != nil {
		queryError(w, err)
		return
	}
	to, err := timeParam(v, "to", now, now)
	if err != nil {
		queryError(w, err)
		return
	}
	from, err := timeParam(v, "from", to.Add(-defaultTrendSpan), now)
	if err != nil {
		queryError(w, err)
		return
	}
	if !from.Before(to) {
		badRequest(w, &query.Error{Param: "to", Reason: "must be after from"})
		return
	}
	interval, err := query.ParseInterval(v, "interval", from, to)
	if err != nil {
		queryError(w, err)
		return
	}
	points, err := s.store.PostureTrend(r.Context(), f, from, to, interval)
	if err != nil {
		s.storeError(w, r, "posture trend", err)
		return
	}
	if points == nil {
		points = []store.PosturePoint{}
	}
	writeJSON(w, http.StatusOK, TrendResponse{From: from, To: to, Interval: query.FormatDuration(interval), Points: points})
}

// StatsResponse is the body of GET /api/v1/stats.
type StatsResponse struct {
	store.Stats
	RetentionDays int `json:"retention_days"` // 0: alerts are kept until pruned by hand
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.store.Stats(r.Context())
	if err != nil {
		s.storeError(w, r, "store statistics", err)
		return
	}
	writeJSON(w, http.StatusOK, StatsResponse{Stats: st, RetentionDays: s.opts.RetentionDays})
}

// PruneResponse is the body of POST /api/v1/store/prune.
type PruneResponse struct {
	Deleted int       `json:"deleted"`
	Before  time.Time `json:"before"`
}

func (s *Server) handlePrune(w http.ResponseWriter, r *http.Request) {
	now := s.now().UTC()
	var before time.Time
	switch b := r.URL.Query().Get("before"); {
	case b != "":
		t, err := query.ParseTime(b, now)
		if err != nil {
			badRequest(w, &query.Error{Param: "before", Reason: err.Error()})
			return
		}
		before = t
	case s.opts.RetentionDays > 0:
		before = now.Add(-time.Duration(s.opts.RetentionDays) * 24 * time.Hour)
	default:
		badRequest(w, &query.Error{Param: "before", Reason: "no retention is configured: say which alerts to delete, e.g. before=90d"})
		return
	}
	n, err := s.store.Prune(r.Context(), before)
	if err != nil {
		s.storeError(w, r, "prune", err)
		return
	}
	s.log.Info("store pruned", "user", userOf(r), "before", before, "deleted", n)
	writeJSON(w, http.StatusOK, PruneResponse{Deleted: n, Before: before})
}

// timeParam reads an optional time parameter (see query.ParseTime).
func timeParam(v url.Values, key string, def, now time.Time) (time.Time, error) {
	x := v.Get(key)
	if x == "" {
		return def, nil
	}
	t, err := query.ParseTime(x, now)
	if err != nil {
		return time.Time{}, &query.Error{Param: key, Reason: err.Error()}
	}
	return t, nil
}

// intParam reads an optional integer parameter within [lo, hi].
func intParam(v url.Values, key string, def, lo, hi int) (int, error) {
	x := v.Get(key)
	if x == "" {
		return def, nil
	}
	n, err := strconv.Atoi(x)
	if err != nil || n < lo || n > hi {
		return 0, &query.Error{Param: key, Reason: "want an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)}
	}
	return n, nil
}
