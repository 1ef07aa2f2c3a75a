// Package metrics is what the service tells Prometheus: one registry per
// process with the Go runtime and process collectors, the HTTP requests by
// route template, the live subscribers, deliveries and drops, the
// changefeeds' reconnects and resyncs, the realtime path's lags, the
// worker's heartbeat age and the database errors by kind. A nil *Metrics is
// valid and records nothing, so packages take one without caring whether
// metrics are on.
package metrics

import (
	"crypto/sha256"
	"crypto/subtle"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the process's collectors.
type Metrics struct {
	registry *prometheus.Registry

	requests        *prometheus.CounterVec
	requestDuration *prometheus.HistogramVec
	subscribers     *prometheus.GaugeVec
	delivered       *prometheus.CounterVec
	droppedSlow     *prometheus.CounterVec
	feedLost        *prometheus.CounterVec
	feedReconnects  *prometheus.CounterVec
	resyncs         *prometheus.CounterVec
	publishLag      prometheus.Histogram
	deliveryLag     prometheus.Histogram
	heartbeatAge    prometheus.Gauge
	dbErrors        *prometheus.CounterVec
}

// lagBuckets cover the realtime path: a coalescing window of tens of
// milliseconds up to a backed-up second or more.
var lagBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New makes the collectors of one process and registers them with a
// registry of its own.
func New() *Metrics {
	const ns = "leaderboard"
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "http_requests_total",
			Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (streams: until the stream ends), by route template and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		subscribers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: ns, Name: "subscribers",
			Help: "Live stream subscribers held by this process, by transport (sse, websocket).",
		}, []string{"transport"}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "events_delivered_total",
			Help: "Events written to subscribers, by transport.",
		}, []string{"transport"}),
		droppedSlow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "subscribers_dropped_slow_total",
			Help: "Subscribers dropped because they fell behind or stopped reading, by transport.",
		}, []string{"transport"}),
		feedLost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "changefeed_lost_total",
			Help: "Changefeeds that ended unexpectedly, by feed.",
		}, []string{"feed"}),
		feedReconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "changefeed_reconnects_total",
			Help: "Changefeeds opened again after one was lost, by feed.",
		}, []string{"feed"}),
		resyncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "changefeed_resyncs_total",
			Help: "Resyncs from the database after a changefeed (re)opened, by feed.",
		}, []string{"feed"}),
		publishLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "publish_lag_seconds",
			Help:    "Listener: from a player change reaching it to the board's new top being saved.",
			Buckets: lagBuckets,
		}),
		deliveryLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Name: "delivery_lag_seconds",
			Help:    "Web: from a board's top being saved (the database's clock) to its event being written to a subscriber.",
			Buckets: lagBuckets,
		}),
		heartbeatAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "worker_heartbeat_age_seconds",
			Help: "Web: age of the worker's last heartbeat when last checked (+Inf if it never beat).",
		}),
		dbErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "database_errors_total",
			Help: "Failed database queries, by kind (unavailable, schema_missing, other).",
		}, []string{"kind"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.requestDuration, m.subscribers, m.delivered, m.droppedSlow,
		m.feedLost, m.feedReconnects, m.resyncs, m.publishLag, m.deliveryLag, m.heartbeatAge, m.dbErrors,
	)
	return m
}

// Handler serves the metrics in Prometheus's text format; with a token,
// only to "Authorization: Bearer <token>".
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, got, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"metrics need Authorization: Bearer <METRICS_TOKEN>"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Request records an answered HTTP request. route is the template
// ("/boards/:board"), never the raw path, so the series stay few.
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.requestDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// Subscribed counts a subscriber in; call the returned func when it leaves.
func (m *Metrics) Subscribed(transport string) (left func()) {
	if m == nil {
		return func() {}
	}
	g := m.subscribers.WithLabelValues(transport)
	g.Inc()
	return g.Dec
}

// Delivered records an event written to a subscriber, saved at savedAt
// (zero when unknown).
func (m *Metrics) Delivered(transport string, savedAt time.Time) {
	if m == nil {
		return
	}
	m.delivered.WithLabelValues(transport).Inc()
	if !savedAt.IsZero() {
		m.deliveryLag.Observe(max(0, time.Since(savedAt).Seconds()))
	}
}

// DroppedSlow records a subscriber dropped for falling behind.
func (m *Metrics) DroppedSlow(transport string) {
	if m == nil {
		return
	}
	m.droppedSlow.WithLabelValues(transport).Inc()
}

// FeedLost records a changefeed that ended unexpectedly.
func (m *Metrics) FeedLost(feed string) {
	if m == nil {
		return
	}
	m.feedLost.WithLabelValues(feed).Inc()
}

// FeedOpened records a changefeed opened and resynced; reconnected says it
// replaced a lost one.
func (m *Metrics) FeedOpened(feed string, reconnected bool) {
	if m == nil {
		return
	}
	m.resyncs.WithLabelValues(feed).Inc()
	if reconnected {
		m.feedReconnects.WithLabelValues(feed).Inc()
	}
}

// PublishLag records the listener's lag for one board.
func (m *Metrics) PublishLag(d time.Duration) {
	if m == nil {
		return
	}
	m.publishLag.Observe(d.Seconds())
}

// HeartbeatAge records the age of the worker's heartbeat; found is false
// when there is none.
func (m *Metrics) HeartbeatAge(age time.Duration, found bool) {
	if m == nil {
		return
	}
	if !found {
		m.heartbeatAge.Set(math.Inf(1))
		return
	}
	m.heartbeatAge.Set(age.Seconds())
}

// DBError records a failed database query of kind.
func (m *Metrics) DBError(kind string) {
	if m == nil {
		return
	}
	m.dbErrors.WithLabelValues(kind).Inc()
}
