package cache

import (
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkGetHit measures the hit path from many goroutines over 1,000 cached users.
func BenchmarkGetHit(b *testing.B) {
	c, err := New[[]byte](Config{})
	if err != nil {
		b.Fatal(err)
	}
	const n = 1000
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = Key{Tenant: "7d3c1b2a-0000-4000-8000-000000000001", Kind: "user", ID: "user" + strconv.Itoa(i) + "@contoso.example|default"}
		if err := c.Set(keys[i], Item[[]byte]{Value: make([]byte, 512), Size: 512, Users: []string{strconv.Itoa(i)}}); err != nil {
			b.Fatal(err)
		}
	}
	var seed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(seed.Add(7919))
		for pb.Next() {
			i++
			if _, ok := c.Get(keys[i%n]); !ok {
				b.Fatal("miss")
			}
		}
	})
}
