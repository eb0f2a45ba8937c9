package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/graphgate/graphgate/cache"
)

// cacheCollector reads a cache's counters at scrape time, so the hot path pays nothing
// for cache metrics.
type cacheCollector struct {
	name  string
	stats func() cache.Stats

	hits, misses, shared, loads, loadErrors *prometheus.Desc
	evictions, expirations, purged, entries *prometheus.Desc
	bytes                                   *prometheus.Desc
}

func newCacheCollector(name string, stats func() cache.Stats) *cacheCollector {
	desc := func(metric, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "cache", metric), help,
			nil, prometheus.Labels{"cache": name})
	}
	return &cacheCollector{
		name:        name,
		stats:       stats,
		hits:        desc("hits_total", "Cache lookups answered from the cache."),
		misses:      desc("misses_total", "Cache lookups not answered from the cache (shared loads included)."),
		shared:      desc("shared_loads_total", "Misses that joined a load another request had started (singleflight)."),
		loads:       desc("loads_total", "Upstream loads started by cache misses."),
		loadErrors:  desc("load_errors_total", "Upstream loads that failed and were not cached."),
		evictions:   desc("evictions_total", "Entries evicted to respect the entry or byte bound."),
		expirations: desc("expirations_total", "Entries removed because their TTL passed."),
		purged:      desc("purged_total", "Entries removed by user or tenant purges."),
		entries:     desc("entries", "Entries held now."),
		bytes:       desc("bytes", "Bytes held now, as counted toward the byte bound."),
	}
}

// Describe implements prometheus.Collector.
func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.shared, c.loads, c.loadErrors,
		c.evictions, c.expirations, c.purged, c.entries, c.bytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(c.hits, s.Hits)
	counter(c.misses, s.Misses)
	counter(c.shared, s.Shared)
	counter(c.loads, s.Loads)
	counter(c.loadErrors, s.LoadErrors)
	counter(c.evictions, s.Evictions)
	counter(c.expirations, s.Expirations)
	counter(c.purged, s.Purged)
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes))
}

// WatchCache exports a cache's counters under the label cache=name, read from stats at
// every scrape. Watching the same name twice is an error.
func (m *Metrics) WatchCache(name string, stats func() cache.Stats) error {
	if m == nil {
		return nil
	}
	if stats == nil {
		return errors.New("metrics: watch cache: nil stats function")
	}
	if err := m.reg.Register(newCacheCollector(name, stats)); err != nil {
		return fmt.Errorf("metrics: watch cache %s: %w", name, err)
	}
	return nil
}
