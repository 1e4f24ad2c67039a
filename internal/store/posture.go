package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/threatlockdown/tld/internal/alert"
	"github.com/threatlockdown/tld/internal/enrich/azureid"
)

// Canonical spellings of recommendation states and severities: rows say
// "Unhealthy" but hand-written events may not.
var (
	canonStates     = map[string]string{"healthy": "Healthy", "unhealthy": "Unhealthy", "notapplicable": "NotApplicable"}
	canonSeverities = map[string]string{"high": "High", "medium": "Medium", "low": "Low"}
)

func canon(m map[string]string, v string) string {
	if c, ok := m[strings.ToLower(strings.TrimSpace(v))]; ok {
		return c
	}
	return strings.TrimSpace(v)
}

// isPostureRow reports whether an alert is a Defender for Cloud
// recommendation row (a SecurityRecommendation record).
func isPostureRow(data alert.Fields) bool {
	return field(data, "RecommendationState") != "" && field(data, "AssessedResourceId") != ""
}

// postureObs is what one recommendation row says.
type postureObs struct {
	recID, name, severity, state, resourceID, region string
	at, changed                                      int64 // row time; StatusChangeDate or -1
	alertID                                          string
}

func parseObs(r *row) postureObs {
	d := r.a.Data
	o := postureObs{
		recID:      field(d, "RecommendationId"),
		name:       field(d, "RecommendationDisplayName", "RecommendationName"),
		severity:   canon(canonSeverities, field(d, "RecommendationSeverity")),
		state:      canon(canonStates, field(d, "RecommendationState")),
		resourceID: strings.TrimRight(strings.TrimSpace(field(d, "AssessedResourceId")), "/"),
		region:     normRegion(field(d, "ResourceRegion")),
		at:         r.ts,
		changed:    -1,
		alertID:    r.a.ID,
	}
	if t, ok := parseTime(field(d, "TimeGenerated")); ok {
		o.at = t
	} else if t, ok := parseTime(field(d, "StatusChangeDate")); ok {
		o.at = t
	}
	if t, ok := parseTime(field(d, "StatusChangeDate")); ok && t <= o.at {
		o.changed = t
	}
	return o
}

func parseTime(v string) (int64, bool) {
	if v == "" {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// updatePosture folds one recommendation row into the pair's current
// state and state timeline. Rows may arrive late or twice: the newest row
// time decides the current state, and the timeline is kept in row time.
func updatePosture(ctx context.Context, tx *sql.Tx, r *row) error {
	o := parseObs(r)
	recKey := strings.ToLower(o.recID)
	if recKey == "" {
		recKey = "name:" + strings.ToLower(o.name)
	}
	resKey := strings.ToLower(o.resourceID)
	var pairID, lastSeen, changed int64
	err := tx.QueryRowContext(ctx, `SELECT pair_id, last_seen, status_changed FROM posture WHERE rec_key = ? AND resource_key = ?`,
		recKey, resKey).Scan(&pairID, &lastSeen, &changed)
	if errors.Is(err, sql.ErrNoRows) {
		id, _ := azureid.Parse(o.resourceID) // a malformed id still gets a row
		since := o.at
		if o.changed >= 0 {
			since = o.changed
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO posture(rec_key, resource_key, recommendation_id, name, severity, state,
			resource_id, subscription, resource_group, resource_type, resource_name, region, first_seen, state_since, last_seen, status_changed, alert_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			recKey, resKey, o.recID, o.name, o.severity, o.state, o.resourceID, id.Subscription, id.ResourceGroup,
			azureid.CanonicalType(id.Type), id.Name, o.region, o.at, since, o.at, o.changed, o.alertID)
		if err != nil {
			return fmt.Errorf("insert state: %w", err)
		}
		if pairID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert state: %w", err)
		}
		return recordObservation(ctx, tx, pairID, o.at, o.state)
	}
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	if err := recordObservation(ctx, tx, pairID, o.at, o.state); err != nil {
		return err
	}
	newest := o.at >= lastSeen
	asOf := lastSeen
	if newest {
		asOf, changed = o.at, o.changed
	}
	since, err := stateSince(ctx, tx, pairID, asOf, changed)
	if err != nil {
		return err
	}
	if newest {
		_, err = tx.ExecContext(ctx, `UPDATE posture SET recommendation_id = ?, name = ?, severity = ?, state = ?, region = ?,
			first_seen = min(first_seen, ?), state_since = ?, last_seen = ?, status_changed = ?, alert_id = ? WHERE pair_id = ?`,
			o.recID, o.name, o.severity, o.state, o.region, o.at, since, o.at, o.changed, o.alertID, pairID)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE posture SET first_seen = min(first_seen, ?), state_since = ? WHERE pair_id = ?`,
			o.at, since, pairID)
	}
	if err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	return nil
}

// stateSince is when the state in force at asOf began: the last
// transition of the timeline, or Defender's StatusChangeDate (changed,
// -1 if unknown) when that is earlier yet after the last row that showed
// another state.
func stateSince(ctx context.Context, tx *sql.Tx, pairID, asOf, changed int64) (int64, error) {
	var since int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(ts), ?) FROM posture_changes WHERE pair_id = ? AND ts <= ?`,
		asOf, pairID, asOf).Scan(&since); err != nil {
		return 0, fmt.Errorf("read state timeline: %w", err)
	}
	if changed < 0 || changed >= since {
		return since, nil
	}
	var before int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(ts), -1) FROM posture_obs WHERE pair_id = ? AND ts < ?`,
		pairID, since).Scan(&before); err != nil {
		return 0, fmt.Errorf("read state observations: %w", err)
	}
	if changed > before {
		return changed, nil
	}
	return since, nil
}

// recordObservation adds "state at time at" to a pair's observations and
// keeps the transitions derived from them right: the row at at is a
// transition when it differs from the observation before it, and the next
// observation is one when it differs from this one.
func recordObservation(ctx context.Context, tx *sql.Tx, pairID, at int64, state string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO posture_obs(pair_id, ts, state) VALUES (?, ?, ?)
		ON CONFLICT(pair_id, ts) DO UPDATE SET state = excluded.state`, pairID, at, state); err != nil {
		return fmt.Errorf("write state observation: %w", err)
	}
	var prev string
	err := tx.QueryRowContext(ctx, `SELECT state FROM posture_obs WHERE pair_id = ? AND ts < ? ORDER BY ts DESC LIMIT 1`, pairID, at).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read state observations: %w", err)
	}
	if err := setChange(ctx, tx, pairID, at, state, errors.Is(err, sql.ErrNoRows) || prev != state); err != nil {
		return err
	}
	var nextTS int64
	var next string
	err = tx.QueryRowContext(ctx, `SELECT ts, state FROM posture_obs WHERE pair_id = ? AND ts > ? ORDER BY ts LIMIT 1`, pairID, at).Scan(&nextTS, &next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read state observations: %w", err)
	}
	return setChange(ctx, tx, pairID, nextTS, next, next != state)
}

func setChange(ctx context.Context, tx *sql.Tx, pairID, at int64, state string, isChange bool) error {
	var err error
	if isChange {
		_, err = tx.ExecContext(ctx, `INSERT INTO posture_changes(pair_id, ts, state) VALUES (?, ?, ?)
			ON CONFLICT(pair_id, ts) DO UPDATE SET state = excluded.state`, pairID, at, state)
	} else {
		_, err = tx.ExecContext(ctx, `DELETE FROM posture_changes WHERE pair_id = ? AND ts = ?`, pairID, at)
	}
	if err != nil {
		return fmt.Errorf("write state timeline: %w", err)
	}
	return nil
}

// postureWhere turns a PostureFilter into SQL over posture p. States are
// left out when withStates is false (a trend counts every state).
func postureWhere(f PostureFilter, withStates bool) (string, []any) {
	var conds []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, "lower("+col+") IN ("+placeholders(len(vals))+")")
		for _, v := range vals {
			args = append(args, strings.ToLower(strings.TrimSpace(v)))
		}
	}
	in("p.subscription", f.Subscriptions)
	in("p.resource_group", f.ResourceGroups)
	in("p.resource_type", f.ResourceTypes)
	in("p.severity", f.Severities)
	if withStates {
		in("p.state", f.States)
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		t = strings.ToLower(t)
		conds = append(conds, "(instr(lower(p.name), ?) > 0 OR instr(lower(p.resource_id), ?) > 0 OR instr(lower(p.recommendation_id), ?) > 0)")
		args = append(args, t, t, t)
	}
	if len(conds) == 0 {
		return "1", nil
	}
	return strings.Join(conds, " AND "), args
}

const postureCols = `p.recommendation_id, p.name, p.severity, p.state, p.resource_id, p.subscription, p.resource_group,
	p.resource_type, p.resource_name, p.region, p.first_seen, p.state_since, p.last_seen, p.alert_id`

// Posture returns one page of recommendation states: unhealthy first, then
// by severity (High, Medium, Low), then newest.
func (s *Store) Posture(ctx context.Context, f PostureFilter, p Page) (PostureResult, error) {
	res := PostureResult{Items: []Recommendation{}}
	limit, offset := pageBounds(p)
	where, args := postureWhere(f, true)
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM posture p WHERE "+where, args...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("query posture: %w", err)
	}
	q := `SELECT ` + postureCols + ` FROM posture p WHERE ` + where + `
		ORDER BY CASE p.state WHEN 'Unhealthy' THEN 0 WHEN 'Healthy' THEN 2 ELSE 1 END,
			CASE p.severity WHEN 'High' THEN 0 WHEN 'Medium' THEN 1 WHEN 'Low' THEN 2 ELSE 3 END,
			p.last_seen DESC, p.pair_id DESC LIMIT ? OFFSET ?`
	rows, err := s.r.QueryContext(ctx, q, append(args, limit, offset)...)
	if err != nil {
		return res, fmt.Errorf("query posture: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Recommendation
		var first, since, last int64
		if err := rows.Scan(&r.RecommendationID, &r.Name, &r.Severity, &r.State, &r.ResourceID, &r.Subscription, &r.ResourceGroup,
			&r.ResourceType, &r.ResourceName, &r.Region, &first, &since, &last, &r.AlertID); err != nil {
			return res, fmt.Errorf("query posture: %w", err)
		}
		r.FirstSeen, r.StateSince, r.LastSeen = fromMillis(first), fromMillis(since), fromMillis(last)
		res.Items = append(res.Items, r)
	}
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("query posture: %w", err)
	}
	return res, nil
}

// PostureCounts summarises the recommendation states f selects.
func (s *Store) PostureCounts(ctx context.Context, f PostureFilter) (PostureCounts, error) {
	var pc PostureCounts
	where, args := postureWhere(f, true)
	var err error
	count := func(col string, unhealthyOnly bool) ([]Bucket, error) {
		q := "SELECT " + col + ", count(*) FROM posture p WHERE " + where
		if unhealthyOnly {
			q += " AND p.state = 'Unhealthy'"
		}
		q += " GROUP BY 1 ORDER BY 2 DESC, 1"
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []Bucket{}
		for rows.Next() {
			var b Bucket
			if err := rows.Scan(&b.Key, &b.Count); err != nil {
				return nil, err
			}
			out = append(out, b)
		}
		return out, rows.Err()
	}
	if pc.BySeverity, err = count("p.severity", true); err != nil {
		return pc, fmt.Errorf("count posture by severity: %w", err)
	}
	sort.SliceStable(pc.BySeverity, func(i, j int) bool {
		return severityRank(pc.BySeverity[i].Key) < severityRank(pc.BySeverity[j].Key)
	})
	if pc.ByState, err = count("p.state", false); err != nil {
		return pc, fmt.Errorf("count posture by state: %w", err)
	}
	if pc.ByResourceType, err = count("p.resource_type", true); err != nil {
		return pc, fmt.Errorf("count posture by resource type: %w", err)
	}
	if pc.BySubscription, err = count("p.subscription", true); err != nil {
		return pc, fmt.Errorf("count posture by subscription: %w", err)
	}
	return pc, nil
}

func severityRank(s string) int {
	switch s {
	case "High":
		return 0
	case "Medium":
		return 1
	case "Low":
		return 2
	}
	return 3
}

// PostureTrend replays the state timelines of the pairs f selects (its
// States are ignored: a trend shows every state) and reports, for each
// interval of [from, to), the posture at its end and the transitions
// within it. A pair's first row counts as a transition into its state.
// interval 0 picks one giving at most about 100 points.
func (s *Store) PostureTrend(ctx context.Context, f PostureFilter, from, to time.Time, interval time.Duration) ([]PosturePoint, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("posture trend: empty range %s to %s", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	iv, err := chooseInterval(from, to, interval)
	if err != nil {
		return nil, fmt.Errorf("posture trend: %w", err)
	}
	ivMs := iv.Milliseconds()
	start := floorDiv(from.UnixMilli(), ivMs) * ivMs
	end := to.UnixMilli()
	n := int((end - start + ivMs - 1) / ivMs)
	where, args := postureWhere(f, false)
	rows, err := s.r.QueryContext(ctx, `SELECT c.pair_id, c.ts, c.state FROM posture_changes c JOIN posture p ON p.pair_id = c.pair_id
		WHERE `+where+` AND c.ts < ? ORDER BY c.ts, c.pair_id`, append(args, end)...)
	if err != nil {
		return nil, fmt.Errorf("posture trend: %w", err)
	}
	defer rows.Close()
	points := make([]PosturePoint, n)
	for i := range points {
		points[i].Start = fromMillis(start + int64(i)*ivMs)
	}
	state := make(map[int64]string)
	var healthy, unhealthy int
	bump := func(st string, d int) {
		switch st {
		case "Healthy":
			healthy += d
		case "Unhealthy":
			unhealthy += d
		}
	}
	cur := 0 // the point whose interval the next change falls in
	flushTo := func(idx int) {
		for ; cur < idx && cur < n; cur++ {
			points[cur].Healthy, points[cur].Unhealthy = healthy, unhealthy
		}
	}
	for rows.Next() {
		var pair, ts int64
		var st string
		if err := rows.Scan(&pair, &ts, &st); err != nil {
			return nil, fmt.Errorf("posture trend: %w", err)
		}
		idx := -1
		if ts >= start {
			idx = int((ts - start) / ivMs)
			flushTo(idx)
		}
		prev, seen := state[pair]
		if seen && prev == st {
			continue
		}
		if seen {
			bump(prev, -1)
		}
		bump(st, 1)
		state[pair] = st
		if idx >= 0 && idx < n {
			switch st {
			case "Healthy":
				points[idx].ToHealthy++
			case "Unhealthy":
				points[idx].ToUnhealthy++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("posture trend: %w", err)
	}
	flushTo(n)
	return points, nil
}
