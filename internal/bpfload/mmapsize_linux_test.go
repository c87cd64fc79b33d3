//go:build linux

package bpfload

import (
	"math"
	"testing"
)

// TestMmapSize: a mapping covers every element padded to 8 bytes, rounded
// up to a page, and a size past what an int holds (2 GiB in a 32-bit
// process; 4 GiB and more would wrap to a short mapping) is refused
// rather than truncated, on every platform.
func TestMmapSize(t *testing.T) {
	for _, c := range []struct {
		value, entries uint32
		limit          uint64
		size           uint64
		ok             bool
	}{
		{4, 513, math.MaxInt64, 8192, true},                  // 4-byte values padded to 8: one page and one element
		{64, 1 << 24, math.MaxInt32, 1 << 30, true},          // a 1 GiB filter fits 32 bits
		{4, 1 << 28, math.MaxInt32, 1 << 31, false},          // 2 GiB: int32 would go negative
		{64, 1<<26 + 64, math.MaxInt32, 1<<32 + 4096, false}, // past 4 GiB: int32 would wrap to one page
		{64, 1<<26 + 64, math.MaxInt64, 1<<32 + 4096, true},
		{1<<32 - 1, 1<<32 - 1, math.MaxInt64, (1<<32 - 1) << 32, false}, // the largest: no 64-bit wrap either
	} {
		size, ok := mmapSize(c.value, c.entries, 4096, c.limit)
		if size != c.size || ok != c.ok {
			t.Errorf("%d values of %d bytes, limit %d: %d bytes, %v; want %d, %v", c.entries, c.value, c.limit, size, ok, c.size, c.ok)
		}
	}
}
