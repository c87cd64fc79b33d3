//go:build linux

package xdp

import (
	"strings"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/dataplane-go/dataplane/bloom"
)

// TestOptions_FirstInvalidValues: the first value past each enumeration
// (KeySource+1, PassMembers+1, Blocked+1) is refused, by Load and by
// Configure, with the message naming it.
func TestOptions_FirstInvalidValues(t *testing.T) {
	p := bloom.Params{Bits: 1024, Hashes: 3}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Params: p, Key: KeySource + 1}, "bloom kernel: key mode must be KeyFlow (0) or KeySource (1), got 2"},
		{Options{Params: p, Action: PassMembers + 1}, "bloom kernel: action must be DropMembers (0) or PassMembers (1), got 2"},
		{Options{Params: p, Layout: Blocked + 1}, "bloom kernel: layout must be Classic (0) or Blocked (1), got 2"},
	} {
		spec, err := Spec()
		if err != nil {
			t.Fatal(err)
		}
		if err := Configure(spec, tc.o); err == nil || err.Error() != tc.want {
			t.Errorf("Configure(%+v) = %v, want %q", tc.o, err, tc.want)
		}
		if _, err := (&Model{Options: tc.o, Filter: bloom.MustNew(p)}).Run(udpA); err == nil || err.Error() != tc.want {
			t.Errorf("Model.Run with %+v = %v, want %q", tc.o, err, tc.want)
		}
	}
}

// TestConfigure_MapEntriesAtBoundaries: the filter map holds a classic
// filter of up to maxFlatBytes in one element, of its words rounded up to
// a power of two (and to eight), and any other filter in ceil(bits/512)
// elements of one 512-bit block, at and just past each word, block and
// power-of-two boundary; on a fresh spec and on one spec configured for
// every case in turn (Configure of a block filter used to leave a value
// size set for a flat one before: 2,048 elements of 128 KiB, not 64
// bytes, for 2^20 bits).
func TestConfigure_MapEntriesAtBoundaries(t *testing.T) {
	const flatBits = 8 * maxFlatBytes
	reused, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		layout Layout
		bits   uint64
	}{
		{Classic, 1}, {Classic, 63}, {Classic, 64}, {Classic, 65}, {Classic, 511}, {Classic, 512},
		{Classic, 513}, {Classic, 1024}, {Classic, 1025}, {Classic, 4096 + 1},
		{Classic, 2048 * 64}, {Classic, 2048*64 + 1}, {Classic, flatBits / 2}, {Classic, flatBits/2 + 1},
		{Classic, flatBits - 1}, {Classic, flatBits}, {Classic, flatBits + 1}, {Classic, flatBits + 512},
		{Blocked, 512}, {Blocked, 1024}, {Blocked, 7 * 512}, {Blocked, flatBits}, {Blocked, flatBits + 512},
	} {
		fresh, err := Spec()
		if err != nil {
			t.Fatal(err)
		}
		entries, size := uint32((tc.bits+511)/512), uint32(64)
		if tc.layout == Classic && tc.bits <= flatBits {
			// One element of the words rounded up to a power of two,
			// eight at least.
			words := uint32(8)
			for uint64(words)*64 < tc.bits {
				words *= 2
			}
			entries, size = 1, 8*words
		}
		for name, spec := range map[string]*ebpf.CollectionSpec{"fresh": fresh, "reused": reused} {
			if err := Configure(spec, Options{Params: bloom.Params{Bits: tc.bits, Hashes: 3}, Layout: tc.layout}); err != nil {
				t.Fatal(err)
			}
			if m := spec.Maps[bloomMapBloomWords]; m.MaxEntries != entries || m.ValueSize != size {
				t.Errorf("%s spec, layout %d, %d bits: bloom_words has %d entries of %d bytes, want %d of %d", name, tc.layout, tc.bits, m.MaxEntries, m.ValueSize, entries, size)
			}
		}
	}
}

// TestKernel_WriteReadRefusesMismatch: a classic kernel refuses a filter
// that differs from its Params in any one of bits, hashes and seed, and a
// blocked kernel refuses the classic calls (WriteFilter, Filter), even
// with Params that a classic filter could have, as a classic kernel
// refuses the blocked ones; the filter is left as it was.
func TestKernel_WriteReadRefusesMismatch(t *testing.T) {
	p := bloom.Params{Bits: 1024, Hashes: 3, Seed: testSeed}
	k := loadKernel(t, Options{Params: p})
	for _, q := range []bloom.Params{
		{Bits: 1025, Hashes: 3, Seed: testSeed},
		{Bits: 1024, Hashes: 4, Seed: testSeed},
		{Bits: 1024, Hashes: 3, Seed: testSeed + 1},
	} {
		f := bloom.MustNew(q)
		f.Add([]byte("x"))
		if err := k.WriteFilter(f); err == nil || !strings.Contains(err.Error(), "the kernel was loaded with bits 1024, hashes 3") {
			t.Errorf("WriteFilter of %v: %v, want the parameters error", q, err)
		}
	}
	if g, err := k.Filter(); err != nil || g.SetBits() != 0 {
		t.Errorf("after the refused writes: %v, %d bits set, want an empty filter", err, g.SetBits())
	}

	b := loadKernel(t, Options{Params: p, Layout: Blocked})
	f := bloom.MustNew(p)
	f.Add([]byte("x"))
	if err := b.WriteFilter(f); err == nil || !strings.Contains(err.Error(), "Blocked layout") {
		t.Errorf("WriteFilter on a blocked kernel: %v", err)
	}
	if _, err := b.Filter(); err == nil || !strings.Contains(err.Error(), "Blocked layout") {
		t.Errorf("Filter on a blocked kernel: %v", err)
	}
	if g, err := b.Blocked(); err != nil || g.SetBits() != 0 {
		t.Errorf("blocked kernel after the refused write: %v, want an empty filter", err)
	}
}
