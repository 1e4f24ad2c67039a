package pipeline

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metricsCollector exposes the pipeline's counters to Prometheus. It reads
// a snapshot at scrape time, so the hot path keeps its plain counters.
type metricsCollector struct {
	p *Pipeline

	received, written, failed, problems *prometheus.Desc
	alerts, outputErrors                *prometheus.Desc
	queued, capacity                    *prometheus.Desc
}

// Collector returns a Prometheus collector of the pipeline's counters:
// events in and out per input, alerts by level, errors, queue depth.
func (p *Pipeline) Collector() prometheus.Collector {
	input := []string{"input"}
	return &metricsCollector{
		p:            p,
		received:     prometheus.NewDesc("tld_events_received_total", "Events read by an input and analysed.", input, nil),
		written:      prometheus.NewDesc("tld_events_written_total", "Events whose batch every output wrote durably (acknowledged to the input).", input, nil),
		failed:       prometheus.NewDesc("tld_events_unwritten_total", "Events in batches an output failed to write; their input reads them again.", input, nil),
		problems:     prometheus.NewDesc("tld_input_problems_total", "Records an input could not read or parse (reported, not lost).", input, nil),
		alerts:       prometheus.NewDesc("tld_alerts_total", "Alerts raised, by rule level.", []string{"level"}, nil),
		outputErrors: prometheus.NewDesc("tld_output_errors_total", "Failed writes or flushes, by output.", []string{"output"}, nil),
		queued:       prometheus.NewDesc("tld_queue_batches", "Batches waiting for analysis or for the outputs.", nil, nil),
		capacity:     prometheus.NewDesc("tld_queue_capacity_batches", "Batches the analysis queue holds before inputs wait.", nil, nil),
	}
}

func (c *metricsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.received, c.written, c.failed, c.problems, c.alerts, c.outputErrors, c.queued, c.capacity} {
		ch <- d
	}
}

func (c *metricsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Summary()
	counters := func(d *prometheus.Desc, m map[string]int) {
		for k, v := range m {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), k)
		}
	}
	// Every input appears in every per-input series, zeros included, so
	// rate() and absent() behave from the first scrape.
	for _, in := range c.p.inputs {
		for _, m := range []map[string]int{s.Events, s.Written, s.Failed, s.Problems} {
			if _, ok := m[in.Name()]; !ok {
				m[in.Name()] = 0
			}
		}
	}
	counters(c.received, s.Events)
	counters(c.written, s.Written)
	counters(c.failed, s.Failed)
	counters(c.problems, s.Problems)
	for level, n := range s.ByLevel {
		ch <- prometheus.MustNewConstMetric(c.alerts, prometheus.CounterValue, float64(n), strconv.Itoa(level))
	}
	for _, o := range c.p.outputs {
		ch <- prometheus.MustNewConstMetric(c.outputErrors, prometheus.CounterValue, float64(s.OutputErrors[o.Name()]), o.Name())
	}
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(s.QueuedBatches))
	ch <- prometheus.MustNewConstMetric(c.capacity, prometheus.GaugeValue, float64(s.QueueCapacity))
}
