package azurelogs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/threatlockdown/tld/internal/checkpoint"
	"github.com/threatlockdown/tld/internal/config"
	"github.com/threatlockdown/tld/internal/input/azure/azauth"
	"github.com/threatlockdown/tld/internal/input/azure/blob"
	"github.com/threatlockdown/tld/internal/input/azure/graph"
	"github.com/threatlockdown/tld/internal/input/azure/loganalytics"
	"github.com/threatlockdown/tld/internal/pipeline"
)

// withoutReport adapts a collector that reports its problems in its logs.
type withoutReport struct {
	collect func(ctx context.Context, emit pipeline.Emitter, st *checkpoint.Store, logger *slog.Logger) error
}

func (w withoutReport) Collect(ctx context.Context, emit pipeline.Emitter, st *checkpoint.Store, _ func(pipeline.Problem), logger *slog.Logger) error {
	return w.collect(ctx, emit, st, logger)
}

// Build makes the collectors of one azure-logs block: credentials are read
// and clients prepared, but no request is made.
func Build(az config.AzureLogs, logger *slog.Logger) ([]Named, error) {
	var out []Named
	for _, api := range az.LogAnalytics {
		cfg, err := loganalytics.FromConfig(az, api, logger)
		if err != nil {
			return nil, err
		}
		c, err := loganalytics.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", api.Pos, err)
		}
		out = append(out, Named{Name: "log_analytics " + api.Pos.String(), Collector: withoutReport{c.Collect}})
	}
	for _, api := range az.Graph {
		cred, hc, err := azauth.ForBlock(az, api, logger)
		if err != nil {
			return nil, err
		}
		var reqs []graph.Request
		for _, r := range api.Requests {
			reqs = append(reqs, graph.Request{Tag: r.Tag, Query: r.Query, TimeOffset: r.TimeOffset, Timeout: r.Timeout, Pos: r.Pos.String()})
		}
		c, err := graph.New(graph.Config{Tenant: api.TenantDomain, Endpoint: az.GraphEndpoint, Credential: cred, HTTPClient: hc, Requests: reqs})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", api.Pos, err)
		}
		out = append(out, Named{Name: "graph " + api.Pos.String(), Collector: withoutReport{c.Collect}})
	}
	for _, s := range az.Storage {
		c, err := blob.New(blob.Config{Storage: s, Endpoint: az.StorageEndpoint, CAFile: az.CAFile})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Pos, err)
		}
		out = append(out, Named{Name: "storage " + s.Pos.String(), Collector: c})
	}
	return out, nil
}
