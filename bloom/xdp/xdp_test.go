//go:build linux

package xdp

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
	"github.com/dataplane-go/dataplane/internal/kerneltest"
	"github.com/dataplane-go/dataplane/internal/pkt"
	"github.com/dataplane-go/dataplane/internal/traffic"
)

const testSeed = 0xb100

// loadKernel loads the kernel with opts, or skips.
func loadKernel(tb testing.TB, opts Options) *Kernel {
	tb.Helper()
	kerneltest.Require(tb)
	k, err := Load(opts)
	if err != nil {
		tb.Fatalf("%+v", err)
	}
	tb.Cleanup(func() { k.Close() })
	return k
}

// model returns a Model over an empty filter of opts.
func model(opts Options) *Model {
	m := &Model{Options: opts}
	if opts.Layout == Blocked {
		m.Blocked = bloom.MustNewBlocked(opts.Params)
	} else {
		m.Filter = bloom.MustNew(opts.Params)
	}
	return m
}

// runModel runs m on frame and fails tb on an error.
func runModel(tb testing.TB, m *Model, frame []byte) uint32 {
	tb.Helper()
	v, err := m.Run(frame)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// write puts the model's filter into the kernel.
func write(tb testing.TB, k *Kernel, m *Model) {
	tb.Helper()
	var err error
	if m.Layout == Blocked {
		err = k.WriteBlocked(m.Blocked)
	} else {
		err = k.WriteFilter(m.Filter)
	}
	if err != nil {
		tb.Fatal(err)
	}
}

func params(layout Layout, n uint64, fpr float64) bloom.Params {
	p := bloom.ParamsFor(n, fpr)
	if layout == Blocked {
		p = bloom.BlockedParamsFor(n, fpr)
	}
	p.Seed = testSeed
	return p
}

// TestSharedNumbers checks every number the C and Go sides share.
func TestSharedNumbers(t *testing.T) {
	for _, c := range []struct {
		name      string
		c, golang uint32
	}{
		{"BLOOM_CLASSIC", uint32(bloomBloomLayoutBLOOM_CLASSIC), uint32(Classic)},
		{"BLOOM_BLOCKED", uint32(bloomBloomLayoutBLOOM_BLOCKED), uint32(Blocked)},
		{"BLOOM_KEY_FLOW", uint32(bloomBloomKeyModeBLOOM_KEY_FLOW), uint32(KeyFlow)},
		{"BLOOM_KEY_SOURCE", uint32(bloomBloomKeyModeBLOOM_KEY_SOURCE), uint32(KeySource)},
		{"BLOOM_DROP_MEMBERS", uint32(bloomBloomActionBLOOM_DROP_MEMBERS), uint32(DropMembers)},
		{"BLOOM_PASS_MEMBERS", uint32(bloomBloomActionBLOOM_PASS_MEMBERS), uint32(PassMembers)},
		{"BLOOM_STAT_MAX", uint32(bloomBloomStatBLOOM_STAT_MAX), 4}, // fields of Stats
	} {
		if c.c != c.golang {
			t.Errorf("%s is %d in C, %d in Go", c.name, c.c, c.golang)
		}
	}
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Maps[bloomMapBloomStats].MaxEntries; got != uint32(bloomBloomStatBLOOM_STAT_MAX) {
		t.Errorf("bloom_stats has %d entries", got)
	}
	// 1100 bits are 18 words, in one element of a classic filter of 32
	// words (a power of two); a blocked filter takes one element per
	// block.
	for _, c := range []struct {
		opts            Options
		entries, values uint32
	}{
		{Options{Params: bloom.Params{Bits: 1100, Hashes: 3}}, 1, 32 * 8},
		{Options{Params: bloom.Params{Bits: 3 * 512, Hashes: 3}, Layout: Blocked}, 3, 64},
	} {
		spec, err := Spec()
		if err != nil {
			t.Fatal(err)
		}
		if err := Configure(spec, c.opts); err != nil {
			t.Fatal(err)
		}
		m := spec.Maps[bloomMapBloomWords]
		if m.MaxEntries != c.entries || m.ValueSize != c.values {
			t.Errorf("%s layout, %d bits: bloom_words has %d entries of %d bytes, want %d of %d", c.opts.Layout, c.opts.Params.Bits, m.MaxEntries, m.ValueSize, c.entries, c.values)
		}
	}
}

func TestOptions_Errors(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Params: bloom.Params{Bits: 0, Hashes: 3}}, "bloom kernel: Params: bits must be in [1, 4294967295], got 0"},
		{Options{Params: bloom.Params{Bits: 1000, Hashes: 3}, Layout: Blocked}, "bloom kernel: Params: blocked bits must be a multiple of 512"},
		{Options{Params: bloom.Params{Bits: 1024, Hashes: 3}, Layout: 2}, "bloom kernel: layout must be Classic (0) or Blocked (1), got 2"},
		{Options{Params: bloom.Params{Bits: 1024, Hashes: 3}, Key: 5}, "bloom kernel: key mode must be KeyFlow (0) or KeySource (1), got 5"},
		{Options{Params: bloom.Params{Bits: 1024, Hashes: 3}, Action: 7}, "bloom kernel: action must be DropMembers (0) or PassMembers (1), got 7"},
	} {
		_, err := Load(tc.o)
		if err == nil || len(err.Error()) < len(tc.want) || err.Error()[:len(tc.want)] != tc.want {
			t.Errorf("Load(%+v) = %v, want %q", tc.o, err, tc.want)
		}
		if verr := tc.o.Validate(); verr == nil || err == nil || verr.Error() != err.Error() {
			t.Errorf("Validate(%+v) = %v, want Load's error", tc.o, verr)
		}
	}
}

// Fixture frames, each shown in readable form.
var (
	// 10.0.0.1:5353 > 10.0.0.2:53 udp
	udpA = pkt.UDP4("10.0.0.1:5353", "10.0.0.2:53", []byte("query"))
	// 10.0.0.1:5354 > 10.0.0.2:53 udp: same source as udpA, another flow
	udpA2 = pkt.UDP4("10.0.0.1:5354", "10.0.0.2:53", []byte("query"))
	// 10.0.0.9:40000 > 10.0.0.2:443 tcp SYN
	tcpB = pkt.TCP4("10.0.0.9:40000", "10.0.0.2:443", pkt.SYN, nil)
	// [2001:db8::1]:40000 > [2001:db8::2]:443 tcp SYN
	tcp6 = pkt.TCP6("[2001:db8::1]:40000", "[2001:db8::2]:443", pkt.SYN, nil)
	// ARP-like frame: EtherType 0x0806, not IP
	notIP = pkt.Frame{EtherType: 0x0806, Payload: make([]byte, 28)}.Bytes()
	// 10.0.0.1 > 10.0.0.2 IPv4 header claiming IHL 15 in a short frame: truncated
	truncated = udpA[:20]
)

func keyOf(tb testing.TB, frame []byte, mode KeyMode) []byte {
	info, err := flow.Parse(frame)
	if err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), KeyBytes(&info.Key, mode)...)
}

// TestKernel_Fixtures: packet, filter contents, options, expected verdict;
// every fixture also runs through the Go model, and both must agree with
// the expectation.
func TestKernel_Fixtures(t *testing.T) {
	type fixture struct {
		name    string
		frame   []byte
		members [][]byte // frames whose keys are in the filter
		key     KeyMode
		action  Action
		want    uint32
	}
	fixtures := []fixture{
		{"blocklist member dropped", udpA, [][]byte{udpA}, KeyFlow, DropMembers, VerdictDrop},
		{"blocklist other flow of the same source passes", udpA2, [][]byte{udpA}, KeyFlow, DropMembers, VerdictPass},
		{"blocklist by source drops every flow of it", udpA2, [][]byte{udpA}, KeySource, DropMembers, VerdictDrop},
		{"blocklist by source passes other sources", tcpB, [][]byte{udpA}, KeySource, DropMembers, VerdictPass},
		{"allowlist member passes", tcpB, [][]byte{tcpB}, KeyFlow, PassMembers, VerdictPass},
		{"allowlist non-member dropped", udpA, [][]byte{tcpB}, KeyFlow, PassMembers, VerdictDrop},
		{"ipv6 member dropped", tcp6, [][]byte{tcp6}, KeyFlow, DropMembers, VerdictDrop},
		{"ipv6 by source", tcp6, [][]byte{tcp6}, KeySource, DropMembers, VerdictDrop},
		{"ipv6 allowlist non-member dropped", tcp6, [][]byte{udpA}, KeySource, PassMembers, VerdictDrop},
		{"not IP passes an allowlist", notIP, nil, KeyFlow, PassMembers, VerdictPass},
		{"truncated passes an allowlist", truncated, nil, KeyFlow, PassMembers, VerdictPass},
	}
	for _, layout := range []Layout{Classic, Blocked} {
		for _, fx := range fixtures {
			t.Run(fmt.Sprintf("%d/%s", layout, fx.name), func(t *testing.T) {
				opts := Options{Params: params(layout, 100, 0.001), Layout: layout, Key: fx.key, Action: fx.action}
				k := loadKernel(t, opts)
				m := model(opts)
				for _, f := range fx.members {
					key := keyOf(t, f, fx.key)
					if layout == Blocked {
						m.Blocked.Add(key)
					} else {
						m.Filter.Add(key)
					}
				}
				write(t, k, m)
				got, _ := kerneltest.Run(t, k.Program(), fx.frame)
				if gm := runModel(t, m, fx.frame); gm != fx.want || got != fx.want {
					t.Fatalf("kernel %d, Go model %d, want %d", got, gm, fx.want)
				}
				s, err := k.Stats()
				if err != nil {
					t.Fatal(err)
				}
				if s != m.Stats {
					t.Fatalf("kernel stats %+v, Go model %+v", s, m.Stats)
				}
				kerneltest.NoAllocs(t, "Stats", func() error { _, err := k.Stats(); return err })
				if err := k.ResetStats(); err != nil {
					t.Fatal(err)
				}
				if s, err := k.Stats(); err != nil || s != (Stats{}) {
					t.Fatalf("after ResetStats: %+v (%v), want every counter 0", s, err)
				}
				kerneltest.NoAllocs(t, "ResetStats", k.ResetStats)
			})
		}
	}
}

// TestKernel_AllHashes: with k = 32 (bloom.MaxHashes, the kernel's loop
// bound) clearing the bit of the last hash alone makes the key absent in
// both kernel and Go, so the kernel tests all 32.
func TestKernel_AllHashes(t *testing.T) {
	for _, layout := range []Layout{Classic, Blocked} {
		p := bloom.Params{Bits: 1 << 16, Hashes: bloom.MaxHashes, Seed: testSeed}
		opts := Options{Params: p, Layout: layout}
		k := loadKernel(t, opts)
		m := model(opts)
		key := keyOf(t, udpA, KeyFlow)
		h := flow.Hash64(key, testSeed)
		var word, bit uint32
		if layout == Blocked {
			m.Blocked.Add(key)
			x := flow.Mix(h, 31/7) >> (9 * (31 % 7)) & 511
			j := flow.Reduce(h, uint32(p.Bits/512))*512 + uint32(x)
			word, bit = j/64, j%64
			m.Blocked.Words()[word] &^= 1 << bit
		} else {
			m.Filter.Add(key)
			j := flow.BitIndex(h, 31, uint32(p.Bits))
			word, bit = j/64, j%64
			m.Filter.Words()[word] &^= 1 << bit
		}
		write(t, k, m)
		got, _ := kerneltest.Run(t, k.Program(), udpA)
		if gm := runModel(t, m, udpA); got != VerdictPass || gm != VerdictPass {
			t.Fatalf("layout %d: without the 32nd bit: kernel %d, Go %d, want pass", layout, got, gm)
		}
		// Set it back: dropped.
		if layout == Blocked {
			m.Blocked.Words()[word] |= 1 << bit
		} else {
			m.Filter.Words()[word] |= 1 << bit
		}
		write(t, k, m)
		got, _ = kerneltest.Run(t, k.Program(), udpA)
		if gm := runModel(t, m, udpA); got != VerdictDrop || gm != VerdictDrop {
			t.Fatalf("layout %d: with every bit: kernel %d, Go %d, want drop", layout, got, gm)
		}
	}
}

func TestKernel_WriteRead(t *testing.T) {
	opts := Options{Params: params(Classic, 5000, 0.01)}
	k := loadKernel(t, opts)
	f := bloom.MustNew(opts.Params)
	for i := 0; i < 5000; i++ {
		f.Add([]byte{byte(i), byte(i >> 8), 1})
	}
	if err := k.WriteFilter(f); err != nil {
		t.Fatal(err)
	}
	g, err := k.Filter()
	if err != nil || !g.Equal(f) {
		t.Fatalf("read back differs (%v)", err)
	}
	if _, err := k.Blocked(); err == nil {
		t.Error("Blocked on a classic kernel")
	}
	if err := k.WriteFilter(bloom.MustNew(bloom.Params{Bits: 64, Hashes: 1})); err == nil {
		t.Error("WriteFilter accepted other parameters")
	}
	if err := k.WriteBlocked(bloom.MustNewBlocked(bloom.Params{Bits: 512, Hashes: 1})); err == nil {
		t.Error("WriteBlocked on a classic kernel")
	}
}

// TestKernel_WriteReadLarge writes and reads back filters of thousands of
// blocks filled with random words: a blocked one, and a classic one whose
// last block is partial.
func TestKernel_WriteReadLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(words []uint64) {
		for i := range words {
			words[i] = rng.Uint64()
		}
	}
	bopts := Options{Params: bloom.Params{Bits: 4099 * bloom.BlockBits, Hashes: 4, Seed: testSeed}, Layout: Blocked}
	k := loadKernel(t, bopts)
	b := bloom.MustNewBlocked(bopts.Params)
	fill(b.Words())
	if err := k.WriteBlocked(b); err != nil {
		t.Fatal(err)
	}
	if g, err := k.Blocked(); err != nil || !g.Equal(b) {
		t.Fatalf("blocked: read back differs (%v)", err)
	}
	copts := Options{Params: bloom.Params{Bits: 4099*bloom.BlockBits + 3*64 + 5, Hashes: 4, Seed: testSeed}}
	k = loadKernel(t, copts)
	c := bloom.MustNew(copts.Params)
	fill(c.Words())
	if err := k.WriteFilter(c); err != nil {
		t.Fatal(err)
	}
	if g, err := k.Filter(); err != nil || !g.Equal(c) {
		t.Fatalf("classic: read back differs (%v)", err)
	}
}

// captureFrames returns every capture's frames (clipped as the kernel sees
// them), or skips without captures.
func captureFrames(tb testing.TB) map[string][][]byte {
	out := map[string][][]byte{}
	for _, path := range traffic.Files(tb) {
		var fs [][]byte
		for _, f := range traffic.Frames(tb, path) {
			if len(f) < kerneltest.MinFrame {
				continue
			}
			fs = append(fs, kerneltest.Clip(f))
		}
		out[path] = fs
	}
	return out
}

// TestKernel_Replay runs every packet of every shared capture through
// kernel and Go model, for both layouts, both key modes and both actions,
// over a filter holding every other distinct key of the capture. No
// verdict may differ.
func TestKernel_Replay(t *testing.T) {
	kerneltest.Require(t)
	files := captureFrames(t)
	type config struct {
		layout Layout
		key    KeyMode
		action Action
	}
	configs := []config{{Classic, KeyFlow, DropMembers}, {Blocked, KeyFlow, DropMembers}, {Classic, KeySource, PassMembers}, {Blocked, KeySource, PassMembers}}
	if testing.Short() {
		configs = configs[:2]
	}
	total := 0
	for _, c := range configs {
		compared, drops := 0, 0
		for path, frames := range files {
			// Every other distinct key (in this mode) of the capture.
			seen := map[string]bool{}
			var members [][]byte
			for _, f := range frames {
				if info, err := flow.Parse(f); err == nil {
					kb := string(KeyBytes(&info.Key, c.key))
					if !seen[kb] {
						seen[kb] = true
						if len(seen)%2 == 1 {
							members = append(members, []byte(kb))
						}
					}
				}
			}
			opts := Options{Params: params(c.layout, uint64(max(1, len(members))), 0.05), Layout: c.layout, Key: c.key, Action: c.action}
			k := loadKernel(t, opts)
			m := model(opts)
			for _, kb := range members {
				if c.layout == Blocked {
					m.Blocked.Add(kb)
				} else {
					m.Filter.Add(kb)
				}
			}
			write(t, k, m)
			drops += dropsAsGo(t, k, m, frames, fmt.Sprintf("%+v %s", c, path))
			compared += len(frames)
			s, err := k.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if s != m.Stats {
				t.Fatalf("%+v %s: kernel stats %+v, Go %+v", c, path, s, m.Stats)
			}
			k.Close()
		}
		if drops == 0 || drops == compared {
			t.Errorf("%+v: %d drops of %d packets: the replay does not exercise both verdicts", c, drops, compared)
		}
		t.Logf("%+v: %d packets of %d captures compared, %d dropped, 0 mismatches", c, compared, len(files), drops)
		total += compared
	}
	t.Logf("%d packet verdicts compared in all", total)
}

// TestKernel_Learn: learn mode over every main capture reads back
// bit-identical to a Go filter built from the same packets, and counts
// every packet passed as the Go model does, at the k of a 1% filter (7
// classic, 5 blocked) and, blocked, at k = 20 (the kernel's loop above
// its straight-line copies for k <= 16).
func TestKernel_Learn(t *testing.T) {
	kerneltest.Require(t)
	frames := traffic.MainFrames(t)
	deep := params(Blocked, 50000, 0.01)
	deep.Hashes = 20
	for _, c := range []struct {
		layout Layout
		p      bloom.Params
	}{{Classic, params(Classic, 50000, 0.01)}, {Blocked, params(Blocked, 50000, 0.01)}, {Blocked, deep}} {
		layout := c.layout
		for _, key := range []KeyMode{KeyFlow, KeySource} {
			opts := Options{Params: c.p, Layout: layout, Key: key, Learn: true}
			k := loadKernel(t, opts)
			m := model(opts)
			n := 0
			for _, f := range frames {
				if len(f) < kerneltest.MinFrame {
					continue
				}
				f = kerneltest.Clip(f)
				got, _ := kerneltest.Run(t, k.Program(), f)
				if want := runModel(t, m, f); got != want || got != VerdictPass {
					t.Fatalf("learn mode verdict: kernel %d, Go %d", got, want)
				}
				n++
			}
			var same bool
			var set uint64
			if layout == Blocked {
				b, err := k.Blocked()
				if err != nil {
					t.Fatal(err)
				}
				same, set = b.Equal(m.Blocked), b.SetBits()
			} else {
				f, err := k.Filter()
				if err != nil {
					t.Fatal(err)
				}
				same, set = f.Equal(m.Filter), f.SetBits()
			}
			if !same || set == 0 {
				t.Fatalf("layout %d key %d: learned filter differs from Go's (%d bits set)", layout, key, set)
			}
			s, err := k.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if s != m.Stats || s.Passed != uint64(n) || s.Dropped != 0 {
				t.Fatalf("layout %d key %d: %d packets learned: kernel stats %+v, Go model %+v", layout, key, n, s, m.Stats)
			}
			t.Logf("layout %d k %d key %d: %d packets learned, %d bits set, identical to Go", layout, c.p.Hashes, key, n, set)
		}
	}
}

// BenchmarkKernel: per-packet time of the filter kernel (parse + hash + k
// bit tests) on the frames of the main captures, net of the XDP_DROP floor
// measured in the same loop, at FPR 1% over half the captures' flows.
func BenchmarkKernel(b *testing.B) {
	kerneltest.Require(b)
	frames := traffic.MainFrames(b)
	var clipped [][]byte
	for _, f := range frames {
		if len(f) >= kerneltest.MinFrame {
			clipped = append(clipped, kerneltest.Clip(f))
		}
	}
	keys := traffic.DistinctKeys(b, 1)
	for _, layout := range []Layout{Classic, Blocked} {
		for _, fpr := range []float64{0.01, 0.001} {
			b.Run(fmt.Sprintf("layout=%s/fpr=%g", layout, fpr), func(b *testing.B) {
				opts := Options{Params: params(layout, uint64(len(keys)), fpr), Layout: layout}
				k := loadKernel(b, opts)
				m := model(opts)
				for i := range keys {
					if i%2 == 0 {
						if layout == Blocked {
							m.Blocked.Add(keys[i].Bytes())
						} else {
							m.Filter.Add(keys[i].Bytes())
						}
					}
				}
				write(b, k, m)
				kerneltest.Bench(b, k.Program(), clipped)
			})
		}
	}
}

// BenchmarkKernelReadWrite measures WriteBlocked and Blocked (the read
// back) on a 2^24-bit (2 MiB) filter.
func BenchmarkKernelReadWrite(b *testing.B) {
	opts := Options{Params: bloom.Params{Bits: 1 << 24, Hashes: 5, Seed: testSeed}, Layout: Blocked}
	k := loadKernel(b, opts)
	f := bloom.MustNewBlocked(opts.Params)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range f.Words() {
		f.Words()[i] = rng.Uint64()
	}
	b.Run("write", func(b *testing.B) {
		kerneltest.BenchMillis(b, "filter", func() error { return k.WriteBlocked(f) })
	})
	b.Run("read", func(b *testing.B) {
		kerneltest.BenchMillis(b, "filter", func() error {
			g, err := k.Blocked()
			if err == nil && !g.Equal(f) {
				err = errors.New("read back differs")
			}
			return err
		})
	})
}

// TestConfigure_AllocatesLittle: Configure of a maximal blocked filter
// sets the constants and the map size without building the filter.
func TestConfigure_AllocatesLittle(t *testing.T) {
	spec, err := Spec()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Params: bloom.Params{Bits: bloom.MaxBlockedBits, Hashes: 3}, Layout: Blocked}
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	if err := Configure(spec, opts); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&b)
	if got := b.TotalAlloc - a.TotalAlloc; got > 1<<20 {
		t.Errorf("Configure allocated %d KiB to set the options", got>>10)
	}
}

// everyKFrames returns n frames of distinct flows from a seeded PCG: UDP
// and TCP over IPv4, and one in eight over IPv6.
func everyKFrames(n int) [][]byte {
	r := rand.New(rand.NewPCG(7, 32))
	frames := make([][]byte, n)
	for i := range frames {
		a, b, sp, dp := r.Uint32(), r.Uint32(), 1024+r.IntN(60000), 1+r.IntN(1023)
		switch {
		case i%8 == 7: // [2001:db8::a]:sp > [2001:db8::b]:dp tcp SYN
			frames[i] = pkt.TCP6(fmt.Sprintf("[2001:db8::%x:%x]:%d", a>>16, a&0xffff, sp), fmt.Sprintf("[2001:db8::%x]:%d", b&0xffff, dp), pkt.SYN, nil)
		case i%2 == 0: // 10.a:sp > 10.b:dp udp
			frames[i] = pkt.UDP4(fmt.Sprintf("10.%d.%d.%d:%d", a>>16&255, a>>8&255, a&255, sp), fmt.Sprintf("10.%d.%d.%d:%d", b>>16&255, b>>8&255, b&255, dp), []byte("x"))
		default: // 10.a:sp > 10.b:dp tcp SYN
			frames[i] = pkt.TCP4(fmt.Sprintf("10.%d.%d.%d:%d", a>>16&255, a>>8&255, a&255, sp), fmt.Sprintf("10.%d.%d.%d:%d", b>>16&255, b>>8&255, b&255, dp), pkt.SYN, nil)
		}
	}
	return frames
}

// TestKernel_EveryK runs every k from 1 to 32 (the blocked kernel has a
// straight-line copy for each k up to 16 and a loop above) for both
// layouts on 300 frames against Go. Lookups: the filter holds every other
// flow and random hashes until a foreign key's k bits are all set with
// probability about 1/2 (a fill of 0.5^(1/k)), so a kernel that skipped or
// misplaced any one bit test would give another verdict on about a quarter
// of the frames; both verdicts must occur. Learn mode: the kernel's filter
// of the frames reads back identical to Go's.
func TestKernel_EveryK(t *testing.T) {
	kerneltest.Require(t)
	frames := everyKFrames(300)
	r := rand.New(rand.NewPCG(32, 7))
	for _, layout := range []Layout{Classic, Blocked} {
		for k := 1; k <= bloom.MaxHashes; k++ {
			opts := Options{Params: bloom.Params{Bits: 512 * 8, Hashes: k, Seed: testSeed + uint64(k)}, Layout: layout}
			checkVerdictsAndLearning(t, opts, frames, r)
		}
	}
}

// TestKernel_ClassicInBlocks runs TestKernel_EveryK's checks on classic
// filters at the limit of one map element: one block larger than
// maxFlatBytes, which the kernel finds a block at a time (one map lookup
// per bit), for the smallest, a common and the largest k; and the largest
// filter it keeps in one element, exactly maxFlatBytes, which every kernel
// the VM tests boot must accept as an array map's value.
func TestKernel_ClassicInBlocks(t *testing.T) {
	kerneltest.Require(t)
	frames := everyKFrames(300)
	r := rand.New(rand.NewPCG(33, 8))
	for _, c := range []struct {
		bits uint64
		k    int
		flat bool
	}{
		{8*maxFlatBytes + bloom.BlockBits, 1, false},
		{8*maxFlatBytes + bloom.BlockBits, 7, false},
		{8*maxFlatBytes + bloom.BlockBits, bloom.MaxHashes, false},
		{8 * maxFlatBytes, 7, true},
	} {
		opts := Options{Params: bloom.Params{Bits: c.bits, Hashes: c.k, Seed: testSeed + uint64(c.k)}}
		if opts.flat() != c.flat {
			t.Fatalf("%d bits: flat %v, want %v", c.bits, opts.flat(), c.flat)
		}
		checkVerdictsAndLearning(t, opts, frames, r)
	}
}

// dropsAsGo runs frames through the kernel k and the model m, failing t
// (naming the case what and the frame) at the first verdict that differs,
// and returns how many frames were dropped.
func dropsAsGo(t *testing.T, k *Kernel, m *Model, frames [][]byte, what string) int {
	t.Helper()
	drops := 0
	for i, f := range frames {
		got, _ := kerneltest.Run(t, k.Program(), f)
		if want := runModel(t, m, f); got != want {
			t.Fatalf("%s, frame %d: kernel %d, Go %d", what, i, got, want)
		}
		if got == VerdictDrop {
			drops++
		}
	}
	return drops
}

// checkVerdictsAndLearning is TestKernel_EveryK for one set of options.
func checkVerdictsAndLearning(t *testing.T, opts Options, frames [][]byte, r *rand.Rand) {
	t.Helper()
	layout, k := opts.Layout, opts.Params.Hashes
	m := model(opts)
	add, fill := m.Filter.AddHash, m.Filter.FillRatio
	if layout == Blocked {
		add, fill = m.Blocked.AddHash, m.Blocked.FillRatio
	}
	for i, f := range frames {
		if i%2 == 0 {
			add(flow.Hash64(keyOf(t, f, KeyFlow), opts.Params.Seed))
		}
	}
	// FillRatio counts the bits: on a filter of a million bits or more,
	// add a key per 1,024 bits between counts.
	batch := uint64(1)
	if opts.Params.Bits >= 1<<20 {
		batch = opts.Params.Bits >> 10
	}
	for fill() < math.Pow(0.5, 1/float64(k)) {
		for range batch {
			add(r.Uint64())
		}
	}
	kern := loadKernel(t, opts)
	write(t, kern, m)
	drops := dropsAsGo(t, kern, m, frames, fmt.Sprintf("layout %d, k = %d", layout, k))
	if drops <= len(frames)/2 || drops == len(frames) {
		t.Errorf("layout %d, k = %d: %d of %d frames dropped: the test does not tell the verdicts apart", layout, k, drops, len(frames))
	}
	kern.Close()

	opts.Learn = true
	kern, lm := loadKernel(t, opts), model(opts)
	for _, f := range frames {
		if _, err := kern.Run(f); err != nil {
			t.Fatal(err)
		}
		runModel(t, lm, f)
	}
	var same bool
	if layout == Blocked {
		got, err := kern.Blocked()
		same = err == nil && got.Equal(lm.Blocked)
	} else {
		got, err := kern.Filter()
		same = err == nil && got.Equal(lm.Filter)
	}
	if !same {
		t.Fatalf("layout %d, k = %d: learned filter differs from Go's", layout, k)
	}
	kern.Close()
}
