// Package metrics holds the relay's Prometheus metrics. It is the only
// package that imports the Prometheus client; others record through the
// methods here.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one relay's set of metrics on its own registry, so tests and
// two relays in one process never collide.
type Metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	deliveries *prometheus.CounterVec
	processed  *prometheus.CounterVec
	github     *prometheus.HistogramVec
	redeliver  *prometheus.CounterVec
	limitHits  *prometheus.CounterVec
}

// New registers the relay's metrics, plus the Go runtime and process ones,
// on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchpanda_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "patchpanda_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern, method and status code.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "code"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchpanda_webhook_deliveries_total",
			Help: "Webhook deliveries received, by event and outcome (accepted, duplicate, rejected).",
		}, []string{"event", "outcome"}),
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchpanda_webhook_processed_total",
			Help: "Webhook deliveries processed after acknowledgement, by event and result (done, retry, failed).",
		}, []string{"event", "result"}),
		github: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "patchpanda_github_request_duration_seconds",
			Help:    "Calls to the GitHub API, by route and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "code"}),
		redeliver: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchpanda_redeliveries_total",
			Help: "Missed deliveries the reconciler asked GitHub to redeliver, by result.",
		}, []string{"result"}),
		limitHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "patchpanda_limit_hits_total",
			Help: "Requests refused or cut short by a limit, by the limit's name (see docs/configuration.md).",
		}, []string{"limit"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.deliveries, m.processed, m.github, m.redeliver, m.limitHits,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveRequest records one answered HTTP request. route and method must
// come from fixed sets (httpapi's route patterns and MethodLabel), never
// from the raw request, or a client could mint label values.
func (m *Metrics) ObserveRequest(route, method string, code int, d time.Duration) {
	c := strconv.Itoa(code)
	m.requests.WithLabelValues(route, method, c).Inc()
	m.latency.WithLabelValues(route, method, c).Observe(d.Seconds())
}

// LimitHit counts one request refused or cut short by the named limit (one
// of the limits package's names).
func (m *Metrics) LimitHit(limit string) { m.limitHits.WithLabelValues(limit).Inc() }

// InitLimits exports each named limit's counter at 0, so a dashboard sees
// the series before the first hit.
func (m *Metrics) InitLimits(names []string) {
	for _, n := range names {
		m.limitHits.WithLabelValues(n)
	}
}

// Delivery records a webhook delivery's intake outcome. The event is
// reduced to eventLabel's fixed set: X-GitHub-Event is not signed.
func (m *Metrics) Delivery(event, outcome string) {
	m.deliveries.WithLabelValues(eventLabel(event), outcome).Inc()
}

// Processed records a delivery's processing result.
func (m *Metrics) Processed(event, result string) {
	m.processed.WithLabelValues(eventLabel(event), result).Inc()
}

// eventLabel keeps the events the relay acts on and calls the rest
// "other".
func eventLabel(event string) string {
	switch event {
	case "", "ping", "issue_comment", "pull_request", "check_run", "check_suite", "installation",
		"installation_repositories", "push", "github_app_authorization":
		return event
	}
	return "other"
}

// GitHubCall records one call to the GitHub API.
func (m *Metrics) GitHubCall(method, route string, code int, d time.Duration) {
	m.github.WithLabelValues(method+" "+route, strconv.Itoa(code)).Observe(d.Seconds())
}

// Redelivery records one redelivery request and its result.
func (m *Metrics) Redelivery(result string) { m.redeliver.WithLabelValues(result).Inc() }

// Backlog is the work waiting in the database, read when metrics are
// scraped.
type Backlog struct {
	DeliveriesPending int
	// Jobs counts queued and running jobs by state.
	Jobs map[string]int
	// Outbox counts entries not yet carried out, by kind.
	Outbox map[string]int
}

// WatchBacklog exports the backlog that read returns, asked for at every
// scrape (so never stale): patchpanda_deliveries_pending,
// patchpanda_jobs{state} and patchpanda_outbox_pending{kind}. A read that
// fails exports nothing for that scrape.
func (m *Metrics) WatchBacklog(read func(ctx context.Context) (Backlog, error)) {
	m.reg.MustRegister(&backlog{read: read,
		deliveries: prometheus.NewDesc("patchpanda_deliveries_pending", "Recorded webhook deliveries not yet processed.", nil, nil),
		jobs:       prometheus.NewDesc("patchpanda_jobs", "Queued and running jobs, by state.", []string{"state"}, nil),
		outbox:     prometheus.NewDesc("patchpanda_outbox_pending", "Outbox entries (queue publishes, GitHub feedback) not yet carried out, by kind.", []string{"kind"}, nil),
	})
}

type backlog struct {
	read                     func(ctx context.Context) (Backlog, error)
	deliveries, jobs, outbox *prometheus.Desc
}

func (b *backlog) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.deliveries
	ch <- b.jobs
	ch <- b.outbox
}

func (b *backlog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	bl, err := b.read(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(b.deliveries, prometheus.GaugeValue, float64(bl.DeliveriesPending))
	for _, state := range []string{"queued", "running"} {
		ch <- prometheus.MustNewConstMetric(b.jobs, prometheus.GaugeValue, float64(bl.Jobs[state]), state)
	}
	for _, kind := range []string{"publish", "github"} {
		ch <- prometheus.MustNewConstMetric(b.outbox, prometheus.GaugeValue, float64(bl.Outbox[kind]), kind)
	}
}
