package bpfload_test

import (
	"testing"

	"github.com/dataplane-go/dataplane/internal/bpfload"
)

// TestBatchLen: a batch is at most Batch elements, at most n, at most
// BatchBytes of values and at least one element, for every n a map can
// have: an n of 2^31 or more (negative as a 32-bit int) takes whole
// batches too.
func TestBatchLen(t *testing.T) {
	for _, c := range []struct {
		n              uint32
		copies, stride int
		want           int
	}{
		{10, 1, 8, 10},
		{0, 1, 8, 1},
		{1 << 20, 1, 8, bpfload.Batch},
		{1 << 20, 64, 64, bpfload.BatchBytes / (64 * 64)},
		{1 << 20, 1024, 32 << 10, 1}, // one element past BatchBytes
		{1 << 31, 1, 8, bpfload.Batch},
		{1<<32 - 1, 2, 8, bpfload.Batch},
	} {
		if got := bpfload.BatchLen(c.n, c.copies, c.stride); got != c.want {
			t.Errorf("BatchLen(%d, %d, %d) = %d, want %d", c.n, c.copies, c.stride, got, c.want)
		}
	}
}
