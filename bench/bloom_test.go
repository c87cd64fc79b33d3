package bench

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bitsbloom "github.com/bits-and-blooms/bloom/v3"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/greatroar/blobloom"
	holiman "github.com/holiman/bloomfilter/v2"
	boom "github.com/tylertreat/BoomFilters"

	"github.com/dataplane-go/dataplane/bloom"
	"github.com/dataplane-go/dataplane/flow"
)

// Keys for the Bloom benchmarks: the distinct flow keys of every shared
// capture (DATAPLANE_TRAFFIC_DIR, top level and synthetic/), amplified to
// blN members plus blN absent keys: copy c of a capture's keys has both
// addresses XORed with a per-copy constant (keeping ports, protocols and
// the relation between addresses), and keys already seen are dropped.
// Without captures the keys are seeded random IPv4 5-tuples.
const blN = 1_000_000

var blOnce sync.Once
var blKeys struct {
	members, absent [][]byte // canonical key bytes
	mh, ah          []uint64 // their flow.Hash64 with seed 0, for the hash-taking peers
	base            int      // distinct keys in the captures (0: random keys)
}

func bloomKeys(tb testing.TB) {
	blOnce.Do(func() {
		base := captureKeys(tb)
		blKeys.base = len(base)
		if len(base) == 0 {
			rng := rand.New(rand.NewPCG(4, 4))
			for i := 0; i < 4096; i++ {
				var s, d [4]byte
				binary.BigEndian.PutUint32(s[:], rng.Uint32())
				binary.BigEndian.PutUint32(d[:], rng.Uint32())
				base = append(base, flow.KeyFrom4(s, d, uint16(rng.Uint32()), uint16(rng.Uint32()), flow.ProtoUDP))
			}
		}
		seen := make(map[flow.Key]struct{}, 2*blN)
		out := make([][]byte, 0, 2*blN)
		for c := uint32(0); len(out) < 2*blN; c++ {
			x := c * 0x9E3779B1 // per-copy address mask; copy 0 is the capture itself
			for _, k := range base {
				k2 := remap(k, x)
				if _, dup := seen[k2]; dup {
					continue
				}
				seen[k2] = struct{}{}
				out = append(out, k2.AppendBytes(nil))
			}
		}
		// Members and absent keys interleave copies, so both hold real flows.
		for i, k := range out[:2*blN] {
			if i%2 == 0 {
				blKeys.members = append(blKeys.members, k)
				blKeys.mh = append(blKeys.mh, flow.Hash64(k, 0))
			} else {
				blKeys.absent = append(blKeys.absent, k)
				blKeys.ah = append(blKeys.ah, flow.Hash64(k, 0))
			}
		}
	})
	if blKeys.base == 0 {
		tb.Logf("bloom keys: DATAPLANE_TRAFFIC_DIR unset or empty, using seeded random keys")
	}
}

func remap(k flow.Key, x uint32) flow.Key {
	b := k.AppendBytes(make([]byte, 0, flow.MaxKeyLen))
	al := 4
	if k.Is6() {
		al = 16
	}
	binary.BigEndian.PutUint32(b[0:], binary.BigEndian.Uint32(b[0:])^x)
	binary.BigEndian.PutUint32(b[al:], binary.BigEndian.Uint32(b[al:])^x)
	k2, _ := flow.KeyFromBytes(b)
	return k2
}

// captureKeys returns the distinct flow keys (flow.Parse) of every capture.
func captureKeys(tb testing.TB) []flow.Key {
	dir := os.Getenv("DATAPLANE_TRAFFIC_DIR")
	if dir == "" {
		return nil
	}
	var files []string
	for _, pat := range []string{"*.pcap*", "synthetic/*.pcap*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		files = append(files, m...)
	}
	seen := map[flow.Key]struct{}{}
	var keys []flow.Key
	for _, path := range files {
		frames, err := readFrames(path)
		if err != nil {
			tb.Logf("bloom keys: %s: %v", filepath.Base(path), err)
		}
		for _, fr := range frames {
			info, err := flow.Parse(fr)
			if err != nil {
				continue
			}
			if _, dup := seen[info.Key]; !dup {
				seen[info.Key] = struct{}{}
				keys = append(keys, info.Key)
			}
		}
	}
	return keys
}

// readFrames reads the Ethernet frames of a pcap or pcapng file, gzipped or not.
func readFrames(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		if r, err = gzip.NewReader(r); err != nil {
			return nil, err
		}
	}
	br := bufio.NewReader(r)
	head, err := br.Peek(4)
	if err != nil {
		return nil, err
	}
	var next func() ([]byte, error)
	var link layers.LinkType
	if binary.LittleEndian.Uint32(head) == 0x0A0D0D0A {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, err
		}
		link = ng.LinkType()
		next = func() ([]byte, error) { d, _, err := ng.ReadPacketData(); return d, err }
	} else {
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, err
		}
		link = pr.LinkType()
		next = func() ([]byte, error) { d, _, err := pr.ReadPacketData(); return d, err }
	}
	if link != layers.LinkTypeEthernet {
		return nil, fmt.Errorf("link type %v, not Ethernet", link)
	}
	var out [][]byte
	for {
		d, err := next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, append([]byte(nil), d...))
	}
}

// blImpl is one filter implementation under test.
type blImpl struct {
	name     string
	build    func(n uint64, fpr float64) (add func(i int), contains func(k []byte, h uint64) bool, bits uint64)
	hashOnly bool // takes our hash, not the key bytes
}

func bloomImpls() []blImpl {
	return []blImpl{
		{name: "dataplane", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := bloom.MustNew(bloom.ParamsFor(n, fpr))
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Contains(k) }, f.Bits()
		}},
		{name: "dataplane-blocked", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := bloom.MustNewBlocked(bloom.BlockedParamsFor(n, fpr))
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Contains(k) }, f.Bits()
		}},
		{name: "bits-and-blooms", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := bitsbloom.NewWithEstimates(uint(n), fpr)
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Test(k) }, uint64(f.Cap())
		}},
		{name: "holiman", hashOnly: true, build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f, err := holiman.NewOptimal(n, fpr)
			if err != nil {
				panic(err)
			}
			return func(i int) { f.AddHash(flow.Hash64(blKeys.members[i], 0)) },
				func(k []byte, _ uint64) bool { return f.ContainsHash(flow.Hash64(k, 0)) }, f.M()
		}},
		{name: "blobloom", hashOnly: true, build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := blobloom.NewOptimized(blobloom.Config{Capacity: n, FPRate: fpr})
			return func(i int) { f.Add(flow.Hash64(blKeys.members[i], 0)) },
				func(k []byte, _ uint64) bool { return f.Has(flow.Hash64(k, 0)) }, f.NumBits()
		}},
		{name: "boom", build: func(n uint64, fpr float64) (func(int), func([]byte, uint64) bool, uint64) {
			f := boom.NewBloomFilter(uint(n), fpr)
			return func(i int) { f.Add(blKeys.members[i]) }, func(k []byte, _ uint64) bool { return f.Test(k) }, uint64(f.Capacity())
		}},
	}
}

const blBatch = 1024

// BenchmarkBloom: Add and Contains (hits: members; misses: absent keys) on
// blN amplified capture flows, at FPR 1% and 0.1%, every implementation in
// the same run. Each peer hashes keys its own way; the hash-taking peers
// (holiman, blobloom) get flow.Hash64 computed inside the timed loop, as
// ours does. Reported: ns/key, measured fpr over blN absent keys, bits/key.
func BenchmarkBloom(b *testing.B) {
	bloomKeys(b)
	for _, fpr := range []float64{0.01, 0.001} {
		for _, im := range bloomImpls() {
			add, contains, bits := im.build(blN, fpr)
			for i := range blKeys.members {
				add(i)
			}
			fp := 0
			for i, k := range blKeys.absent {
				if contains(k, blKeys.ah[i]) {
					fp++
				}
			}
			for i, k := range blKeys.members[:1000] {
				if !contains(k, blKeys.mh[i]) {
					b.Fatalf("%s: false negative", im.name)
				}
			}
			measured := float64(fp) / float64(len(blKeys.absent))
			report := func(b *testing.B, keys int) {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
				b.ReportMetric(measured, "fpr")
				b.ReportMetric(float64(bits)/blN, "bits/key")
			}
			name := fmt.Sprintf("fpr=%g/%s", fpr, im.name)
			b.Run(name+"/Add", func(b *testing.B) {
				addF, _, _ := im.build(blN, fpr)
				b.ReportAllocs()
				i, keys := 0, 0
				for b.Loop() {
					for j := 0; j < blBatch; j++ {
						addF(i)
						if i++; i == blN {
							i = 0
						}
					}
					keys += blBatch
				}
				report(b, keys)
			})
			for _, set := range []struct {
				name string
				keys [][]byte
				hs   []uint64
			}{{"Contains/hit", blKeys.members, blKeys.mh}, {"Contains/miss", blKeys.absent, blKeys.ah}} {
				b.Run(name+"/"+set.name, func(b *testing.B) {
					b.ReportAllocs()
					i, keys, found := 0, 0, 0
					for b.Loop() {
						for j := 0; j < blBatch; j++ {
							if contains(set.keys[i], set.hs[i]) {
								found++
							}
							if i++; i == blN {
								i = 0
							}
						}
						keys += blBatch
					}
					report(b, keys)
					_ = found
				})
			}
		}
	}
}

// BenchmarkCountingBloom: counting filters with 4-bit counters, ours and
// BoomFilters', at the same n, FPR and memory. Remove is timed per batch
// (remove 1024 members, then add them back untimed by the metric).
func BenchmarkCountingBloom(b *testing.B) {
	bloomKeys(b)
	type ops struct {
		add      func([]byte)
		remove   func([]byte) bool
		contains func([]byte) bool
		bytes    int
	}
	impls := []struct {
		name  string
		build func(n uint64, fpr float64) ops
	}{
		{"dataplane", func(n uint64, fpr float64) ops {
			c := bloom.MustNewCounting(bloom.ParamsFor(n, fpr), 4)
			return ops{c.Add, func(k []byte) bool { return c.Remove(k) == nil }, c.Contains, c.SizeBytes()}
		}},
		{"boom", func(n uint64, fpr float64) ops {
			c := boom.NewDefaultCountingBloomFilter(uint(n), fpr)
			return ops{func(k []byte) { c.Add(k) }, c.TestAndRemove, c.Test, int(c.Capacity()) * 4 / 8}
		}},
	}
	for _, fpr := range []float64{0.01, 0.001} {
		for _, im := range impls {
			o := im.build(blN, fpr)
			for _, k := range blKeys.members {
				o.add(k)
			}
			fp := 0
			for _, k := range blKeys.absent {
				if o.contains(k) {
					fp++
				}
			}
			measured := float64(fp) / blN
			name := fmt.Sprintf("fpr=%g/%s", fpr, im.name)
			b.Run(name+"/Remove", func(b *testing.B) {
				b.ReportAllocs()
				i, keys := 0, 0
				var removing time.Duration
				for b.Loop() {
					batch := blKeys.members[i : i+blBatch]
					t0 := time.Now()
					for _, k := range batch {
						if !o.remove(k) {
							b.Fatal("member not removed")
						}
					}
					removing += time.Since(t0)
					for _, k := range batch {
						o.add(k)
					}
					keys += blBatch
					if i += blBatch; i+blBatch > blN {
						i = 0
					}
				}
				b.ReportMetric(float64(removing.Nanoseconds())/float64(keys), "ns/remove")
				b.ReportMetric(measured, "fpr")
				b.ReportMetric(float64(8*o.bytes)/blN, "bits/key")
			})
			b.Run(name+"/Contains/hit", func(b *testing.B) {
				b.ReportAllocs()
				i, keys := 0, 0
				for b.Loop() {
					for j := 0; j < blBatch; j++ {
						o.contains(blKeys.members[i])
						if i++; i == blN {
							i = 0
						}
					}
					keys += blBatch
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(keys), "ns/key")
			})
		}
	}
}
