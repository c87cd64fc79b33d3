//go:build linux

package xdp

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
)

// TestKernel_LargestFilters: the kernel holds the largest filters package
// bloom accepts (MaxBits bits classic, MaxBlockedBits blocked, both with
// MaxHashes hashes), so the loader needs no limit of its own beyond
// bloom's. A key whose bits are set in the top eighth of the map, at bit
// indexes past 2^31 (the seed is chosen for that), is found there and
// another key is not. The key's
// bits are set through the memory-mapped map, since a Go filter of that
// size would take another 512 MiB. It loads two maps of 512 MiB, so
// -short skips it.
func TestKernel_LargestFilters(t *testing.T) {
	if testing.Short() {
		t.Skip("loads two 512 MiB maps")
	}
	key := keyOf(t, udpA, KeyFlow)
	for _, c := range []struct {
		layout Layout
		bits   uint64
	}{{Classic, bloom.MaxBits}, {Blocked, bloom.MaxBlockedBits}} {
		// The first seed from testSeed that puts the key's highest bit in
		// the top eighth of the filter (for Blocked, its block).
		seed := uint64(testSeed)
		for ; ; seed++ {
			if slices.Max(keyBits(c.layout, flow.Hash64(key, seed), c.bits)) >= c.bits-c.bits/8 {
				break
			}
		}
		opts := Options{Params: bloom.Params{Bits: c.bits, Hashes: bloom.MaxHashes, Seed: seed}, Layout: c.layout}
		k := loadKernel(t, opts)
		if want := 64 * int((c.bits+511)/512); len(k.mem) < want {
			t.Fatalf("layout %d: the map holds %d bytes, want at least %d", c.layout, len(k.mem), want)
		}
		words := unsafe.Slice((*uint64)(unsafe.Pointer(&k.mem[0])), len(k.mem)/8)
		for _, j := range keyBits(c.layout, flow.Hash64(key, seed), c.bits) {
			words[j/64] |= 1 << (j % 64)
		}
		for _, fx := range []struct {
			frame []byte
			want  uint32
		}{{udpA, VerdictDrop}, {tcpB, VerdictPass}} {
			if v, err := k.Run(fx.frame); err != nil || v != fx.want {
				t.Errorf("layout %d, %d bits: verdict %d, %v; want %d", c.layout, c.bits, v, err, fx.want)
			}
		}
		k.Close()
	}
}

// keyBits returns the filter bit indexes of the key with hash h in a
// filter of the layout with m bits and MaxHashes hashes.
func keyBits(layout Layout, h, m uint64) []uint64 {
	var js []uint64
	for i := uint32(0); i < bloom.MaxHashes; i++ {
		if layout == Classic {
			js = append(js, uint64(flow.BitIndex(h, i, uint32(m))))
			continue
		}
		b := uint64(flow.Reduce(h, uint32(m/bloom.BlockBits)))
		js = append(js, b*bloom.BlockBits+flow.Mix(h, i/7)>>(9*(i%7))&511)
	}
	return js
}
