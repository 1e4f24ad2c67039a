package store

import (
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned by Get for an id the store does not hold.
var ErrNotFound = errors.New("alert not found")

// Filter selects alerts. A zero field means "any"; slices match any of
// their values; every set field must hold (AND).
type Filter struct {
	From, To   time.Time // alert timestamp in [From, To)
	Groups     []string  // rule groups: an alert matches when it has one of them
	RuleIDs    []string
	MinLevel   int      // 0: no lower bound
	MaxLevel   int      // 0: no upper bound
	Agents     []string // agent name or id
	Locations  []string
	Techniques []string // MITRE ATT&CK technique ids; "T1098" also matches its sub-techniques "T1098.xxx"
	Tactics    []string // MITRE ATT&CK tactic names as in alerts ("Persistence"), case-insensitive
	Text       string   // free text: every word must occur in the alert (description, full log or data)

	// key narrows a search sorted by a keyword field to one of its
	// values (see searchByKey).
	key sortKey
}

type sortKey struct {
	field SortField
	value string // rule id, agent name or location
	level int
}

// SortField names a column alerts can be sorted by.
type SortField string

// The columns alerts can be sorted by.
const (
	SortTimestamp SortField = "timestamp"
	SortLevel     SortField = "level"
	SortRule      SortField = "rule"
	SortAgent     SortField = "agent"
	SortLocation  SortField = "location"
)

// Page is one page of a sorted result. Limit 0 means the default (50);
// the store caps it at 1,000. The zero Sort is newest first.
type Page struct {
	Limit  int
	Offset int
	Sort   SortField
	Asc    bool
}

// AlertSummary is what a list of alerts shows of each alert.
type AlertSummary struct {
	ID          string    `json:"id"`
	Timestamp   time.Time `json:"timestamp"`
	RuleID      string    `json:"rule_id"`
	Level       int       `json:"level"`
	Description string    `json:"description"`
	Groups      []string  `json:"groups"`
	AgentID     string    `json:"agent_id"`
	AgentName   string    `json:"agent_name"`
	Location    string    `json:"location"`
	Techniques  []string  `json:"mitre_techniques,omitempty"` // ids, e.g. T1098.003
	Tactics     []string  `json:"mitre_tactics,omitempty"`
}

// SearchResult is one page of alerts and how many match in all.
type SearchResult struct {
	Total int `json:"total"`
	// TotalIsLowerBound is set when counting stopped early (Total matches
	// at least) to keep the query fast.
	TotalIsLowerBound bool           `json:"total_is_lower_bound,omitempty"`
	Alerts            []AlertSummary `json:"alerts"`
}

// StoredAlert is one alert in full.
type StoredAlert struct {
	AlertSummary
	// JSON is the alert exactly as written to alerts.json.
	JSON json.RawMessage `json:"alert"`
}

// Dimension is what Top counts alerts by.
type Dimension string

// The dimensions Top counts by.
const (
	ByRule         Dimension = "rule"          // Key: rule id, Label: its description
	ByGroup        Dimension = "group"         // Key: rule group
	ByLevel        Dimension = "level"         // Key: level as decimal text
	ByAgent        Dimension = "agent"         // Key: agent name
	ByLocation     Dimension = "location"      // Key: location
	ByTactic       Dimension = "tactic"        // Key: tactic name
	ByTechnique    Dimension = "technique"     // Key: technique id, Label: technique name
	ByResourceType Dimension = "resource_type" // Key: Azure resource type, e.g. Microsoft.Compute/virtualMachines
	ByRegion       Dimension = "region"        // Key: Azure region, e.g. westeurope
)

// Bucket is one count of an aggregation.
type Bucket struct {
	Key   string `json:"key"`
	Label string `json:"label,omitempty"`
	Count int    `json:"count"`
}

// TimeBucket counts alerts in [Start, Start+interval).
type TimeBucket struct {
	Start time.Time `json:"start"`
	Count int       `json:"count"`
}

// MitreCell counts alerts of one technique under one tactic.
type MitreCell struct {
	Tactic      string `json:"tactic"`
	TechniqueID string `json:"technique_id"`
	Technique   string `json:"technique"`
	Count       int    `json:"count"`
}

// PostureFilter selects Defender for Cloud recommendation states. Zero
// fields mean "any"; slices match any of their values.
type PostureFilter struct {
	Subscriptions  []string
	ResourceGroups []string
	ResourceTypes  []string
	Severities     []string // High, Medium, Low
	States         []string // Healthy, Unhealthy, NotApplicable
	Text           string   // in recommendation name or resource id
}

// Recommendation is the latest known state of one Defender recommendation
// for one resource.
type Recommendation struct {
	RecommendationID string    `json:"recommendation_id"`
	Name             string    `json:"name"`
	Severity         string    `json:"severity"`
	State            string    `json:"state"`
	ResourceID       string    `json:"resource_id"`
	Subscription     string    `json:"subscription"`
	ResourceGroup    string    `json:"resource_group"`
	ResourceType     string    `json:"resource_type"`
	ResourceName     string    `json:"resource_name"`
	Region           string    `json:"region,omitempty"`
	FirstSeen        time.Time `json:"first_seen"`  // first row seen for this pair
	StateSince       time.Time `json:"state_since"` // when the current state began
	LastSeen         time.Time `json:"last_seen"`   // time of the newest row
	AlertID          string    `json:"alert_id"`    // alert of the newest row
}

// PostureResult is one page of recommendation states: unhealthy first,
// then by severity (High, Medium, Low), then newest.
type PostureResult struct {
	Total int              `json:"total"`
	Items []Recommendation `json:"items"`
}

// PostureCounts summarises recommendation states.
type PostureCounts struct {
	BySeverity     []Bucket `json:"by_severity"`      // unhealthy pairs per severity
	ByState        []Bucket `json:"by_state"`         // pairs per state
	ByResourceType []Bucket `json:"by_resource_type"` // unhealthy pairs per resource type
	BySubscription []Bucket `json:"by_subscription"`  // unhealthy pairs per subscription
}

// PosturePoint is the posture at the end of one interval of a trend.
type PosturePoint struct {
	Start       time.Time `json:"start"`
	Unhealthy   int       `json:"unhealthy"`    // pairs unhealthy at the end of the interval
	Healthy     int       `json:"healthy"`      // pairs healthy at the end of the interval
	ToUnhealthy int       `json:"to_unhealthy"` // changes to unhealthy within the interval
	ToHealthy   int       `json:"to_healthy"`   // changes to healthy within the interval
}

// Stats describes what the store holds.
type Stats struct {
	Alerts          int       `json:"alerts"`
	Oldest          time.Time `json:"oldest"`
	Newest          time.Time `json:"newest"`
	Recommendations int       `json:"recommendations"`
	SizeBytes       int64     `json:"size_bytes"`
}
