package flow

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

func refXXH64(b []byte, seed uint64) uint64 {
	d := xxhash.NewWithSeed(seed)
	d.Write(b)
	return d.Sum64()
}

func TestHash64_MatchesXXHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 200)
	for n := 0; n <= len(buf); n++ {
		for trial := 0; trial < 20; trial++ {
			for i := range buf[:n] {
				buf[i] = byte(rng.Uint32())
			}
			seed := rng.Uint64()
			if trial == 0 {
				seed = 0
			}
			if got, want := Hash64(buf[:n], seed), refXXH64(buf[:n], seed); got != want {
				t.Fatalf("Hash64(len %d, seed %#x) = %#x, xxhash says %#x", n, seed, got, want)
			}
		}
	}
	// The unrolled forms for keys agree with the general one.
	for trial := 0; trial < 2000; trial++ {
		var k Key
		for i := range k.b {
			k.b[i] = byte(rng.Uint32())
		}
		seed := rng.Uint64()
		for _, n := range []uint8{KeyLen4, KeyLen6} {
			k.n = n
			if got, want := k.Hash(seed), refXXH64(k.b[:n], seed); got != want {
				t.Fatalf("Key.Hash of %d bytes = %#x, xxhash says %#x", n, got, want)
			}
		}
	}
	if got, want := Hash64(nil, 0), xxhash.Sum64(nil); got != want {
		t.Fatalf("Hash64(nil, 0) = %#x, want %#x", got, want)
	}
}

// refMix is the splitmix64 generator written as its authors give it: the
// state advances by the golden increment, then the output is finalized.
func refMix(h uint64, i uint32) uint64 {
	state := h
	var z uint64
	for j := uint32(0); j <= i; j++ {
		state += 0x9E3779B97F4A7C15
		z = state
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
		z = (z ^ (z >> 27)) * 0x94D049BB133111EB
		z ^= z >> 31
	}
	return z
}

func TestIndex_Derivation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 1000; trial++ {
		h := rng.Uint64()
		// i+1 is taken in 32 bits (as dp_mix does): the last index wraps
		// to the state h itself.
		if got, want := Mix(h, 1<<32-1), refMix(h-0x9E3779B97F4A7C15, 0); got != want {
			t.Fatalf("Mix(%#x, 2^32-1) = %#x, want Splitmix(h) = %#x", h, got, want)
		}
		for i := uint32(0); i < 8; i++ {
			if got, want := Mix(h, i), refMix(h, i); got != want {
				t.Fatalf("Mix(%#x, %d) = %#x, splitmix64 says %#x", h, i, got, want)
			}
			m := rng.Uint32()
			idx := Index(h, i, m)
			if m > 0 && idx >= m {
				t.Fatalf("Index(%#x, %d, %d) = %d, out of range", h, i, m, idx)
			}
			if m == 0 && idx != 0 {
				t.Fatalf("Index with m = 0 must be 0, got %d", idx)
			}
		}
	}
}

// TestBitIndex_Derivation checks BitIndex against its definition computed
// with wide integers: a + i*b + i(i-1)/2*c mod 2^32 scaled into [0, m).
// Besides the first 40 terms it checks terms whose i(i-1) needs more than
// 32 bits (from i = 65537 on), where the product must be taken in 64 bits
// before the halving, as dp_bit_index in hash.h takes it.
func TestBitIndex_Derivation(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	two32 := big.NewInt(1 << 32)
	var terms []int64
	for i := range int64(40) {
		terms = append(terms, i)
	}
	terms = append(terms, 65536, 65537, 92681, 92682, 1<<20+3, 1<<31, 1<<32-1)
	for trial := 0; trial < 1000; trial++ {
		h := rng.Uint64()
		m := rng.Uint32()
		if trial%10 == 0 {
			m = uint32(trial) // small tables too, m = 0 included
		}
		a, b := new(big.Int).SetUint64(h>>32), new(big.Int).SetUint64(h&(1<<32-1))
		c := new(big.Int).SetUint64(refMix(h, 0) >> 32)
		for _, i := range terms {
			g := new(big.Int).Mul(b, big.NewInt(i))
			g.Add(g, a)
			tri := new(big.Int).Mul(big.NewInt(i), big.NewInt(i-1)) // i(i-1)
			tri.Rsh(tri, 1)                                         // i(i-1)/2, exact: i(i-1) is even
			g.Add(g, tri.Mul(tri, c))
			g.Mod(g, two32)
			want := g.Mul(g, big.NewInt(int64(m))).Rsh(g, 32).Uint64()
			got := BitIndex(h, uint32(i), m)
			if uint64(got) != want {
				t.Fatalf("BitIndex(%#x, %d, %d) = %d, want %d", h, i, m, got, want)
			}
			if m > 0 && got >= m || m == 0 && got != 0 {
				t.Fatalf("BitIndex(%#x, %d, %d) = %d, out of range", h, i, m, got)
			}
		}
	}
}

// TestBitIndex_TripleCollisions is the property plain double hashing
// lacks: a key's indexes coincide independently of one another. For
// independent indexes, three given indexes of a key coincide with
// probability 1/m^2: 19.6 times in 200,000 keys at m = 101. Under a
// progression a + i*b, indexes 0 and 1 coincide when b/2^32 is within
// 1/m of an integer, and then index 2 joins them: about 1/m of keys,
// near 2,000.
func TestBitIndex_TripleCollisions(t *testing.T) {
	const m, keys = 101, 200000
	for _, ijk := range [][3]uint32{{0, 1, 2}, {1, 2, 3}, {0, 2, 4}, {3, 5, 7}} {
		same := 0
		for j := uint64(0); j < keys; j++ {
			h := Hash64([]byte(strconv.FormatUint(j, 10)), 9)
			x := BitIndex(h, ijk[0], m)
			if BitIndex(h, ijk[1], m) == x && BitIndex(h, ijk[2], m) == x {
				same++
			}
		}
		// Poisson(19.6): P(more than 60) < 1e-10.
		if same > 60 {
			t.Errorf("indexes %v of a key coincide in %d of %d keys, want about %d", ijk, same, keys, keys/(m*m))
		}
	}
}

// TestBitIndex_Uniform is TestIndex_Uniform for BitIndex: every term, not
// only the first, is spread evenly.
func TestBitIndex_Uniform(t *testing.T) {
	const buckets, n = 61, 610000 // a prime count: no help from powers of two
	for i := uint32(0); i < 8; i++ {
		var count [buckets]int
		for j := uint64(0); j < n; j++ {
			count[BitIndex(Hash64([]byte(strconv.FormatUint(j, 10)), 7), i, buckets)]++
		}
		// 60 degrees of freedom: P(chi2 > 126) < 1e-6.
		if chi := chiSquare(count[:]); chi > 126 {
			t.Fatalf("index %d not uniform: chi2 = %.1f over %d buckets", i, chi, buckets)
		}
	}
}

// TestIndex_Uniform checks that Reduce spreads derived indexes evenly: a
// chi-square test over 64 buckets at a significance that a correct
// implementation fails with probability below 1e-6 (fixed seed: never flakes).
func TestIndex_Uniform(t *testing.T) {
	const buckets, n = 64, 640000
	var count [buckets]int
	for j := uint64(0); j < n/4; j++ {
		h := Hash64([]byte(strconv.FormatUint(j, 10)), 7)
		for i := uint32(0); i < 4; i++ {
			count[Index(h, i, buckets)]++
		}
	}
	// 63 degrees of freedom: P(chi2 > 130) < 1e-6.
	if chi := chiSquare(count[:]); chi > 130 {
		t.Fatalf("indexes not uniform: chi2 = %.1f over %d buckets", chi, buckets)
	}
}

// chiSquare is Pearson's statistic of count against equal expected counts.
func chiSquare(count []int) float64 {
	n := 0
	for _, c := range count {
		n += c
	}
	exp := float64(n) / float64(len(count))
	chi := 0.0
	for _, c := range count {
		d := float64(c) - exp
		chi += d * d / exp
	}
	return chi
}

// TestIndex_NoSharedCells is the property an arithmetic progression lacks:
// among many key pairs that collide in index 0, the share that also
// collide in index 1 is about 1/m, as for independent indexes.
func TestIndex_NoSharedCells(t *testing.T) {
	const m = 64
	first := map[uint32][]uint64{}
	for j := uint64(0); j < 20000; j++ {
		h := Hash64([]byte(strconv.FormatUint(j, 10)), 1)
		first[Index(h, 0, m)] = append(first[Index(h, 0, m)], h)
	}
	pairs, both := 0, 0
	for _, hs := range first {
		for a := 0; a < len(hs) && a < 60; a++ {
			for b := a + 1; b < len(hs) && b < 60; b++ {
				pairs++
				if Index(hs[a], 1, m) == Index(hs[b], 1, m) {
					both++
				}
			}
		}
	}
	frac := float64(both) / float64(pairs)
	if frac > 2.0/m {
		t.Fatalf("%d of %d pairs colliding in index 0 also collide in index 1 (%.4f, independent indexes give %.4f)", both, pairs, frac, 1.0/m)
	}
}

// goldenPath holds vectors that both the Go hash and the kernel's hash.h
// must reproduce: canonical key bytes, seed, xxHash64, the first four mixes
// and the indexes for m = 1000003.
const goldenPath = "testdata/hash_vectors.txt"

const goldenM = 1000003

func goldenKeys() []Key {
	return []Key{
		MustKey("10.0.0.1", "10.0.0.2", 5353, 53, ProtoUDP),
		MustKey("192.168.1.10", "93.184.216.34", 51000, 443, ProtoTCP),
		MustKey("0.0.0.0", "0.0.0.0", 0, 0, 0),
		MustKey("255.255.255.255", "255.255.255.255", 65535, 65535, 255),
		MustKey("172.16.0.1", "172.16.0.2", 0, 0, ProtoICMP),
		MustKey("2001:db8::1", "2001:db8::2", 443, 51000, ProtoTCP),
		MustKey("fe80::1", "ff02::1", 0, 0, ProtoICMPv6),
		MustKey("::", "::", 0, 0, 0),
		MustKey("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::", 1, 2, ProtoUDP),
	}
}

func goldenSeeds() []uint64 { return []uint64{0, 1, 0x9E3779B97F4A7C15, 0xFFFFFFFFFFFFFFFF} }

func formatGolden(k Key, seed uint64) string {
	h := k.Hash(seed)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %016x %016x", hex.EncodeToString(k.Bytes()), seed, h)
	for i := uint32(0); i < 4; i++ {
		fmt.Fprintf(&sb, " %016x", Mix(h, i))
	}
	for i := uint32(0); i < 4; i++ {
		fmt.Fprintf(&sb, " %d", Index(h, i, goldenM))
	}
	for i := uint32(0); i < 4; i++ {
		fmt.Fprintf(&sb, " %d", BitIndex(h, i, goldenM))
	}
	return sb.String()
}

// TestGoldenVectors checks the Go hash and index derivation against the
// committed vectors (which the kernel test checks too). Regenerate with
// DATAPLANE_UPDATE_GOLDEN=1 only when the contract changes on purpose.
func TestGoldenVectors(t *testing.T) {
	var want []string
	for _, k := range goldenKeys() {
		for _, s := range goldenSeeds() {
			want = append(want, formatGolden(k, s))
		}
	}
	if os.Getenv("DATAPLANE_UPDATE_GOLDEN") == "1" {
		hdr := "# canonical-key-hex seed xxh64 mix0 mix1 mix2 mix3 index0 index1 index2 index3 bit0 bit1 bit2 bit3 (m = 1000003)\n"
		if err := os.WriteFile(goldenPath, []byte(hdr+strings.Join(want, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			got = append(got, line)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s has %d vectors, want %d", goldenPath, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("vector %d:\n file %s\n code %s", i, got[i], want[i])
		}
	}
	// Independent check of the file's hash column against cespare/xxhash.
	for _, line := range got {
		var kh string
		var seed, h uint64
		if _, err := fmt.Sscanf(line, "%s %x %x", &kh, &seed, &h); err != nil {
			t.Fatal(err)
		}
		kb, _ := hex.DecodeString(kh)
		if r := refXXH64(kb, seed); r != h {
			t.Errorf("vector %s: xxhash says %016x", kh, r)
		}
	}
}

func TestKey_Accessors(t *testing.T) {
	k := MustKey("10.0.0.1", "10.0.0.2", 5353, 53, ProtoUDP)
	if got, want := hex.EncodeToString(k.Bytes()), "0a0000010a00000214e9003511"; got != want {
		t.Fatalf("canonical bytes %s, want %s", got, want)
	}
	if k.String() != "10.0.0.1:5353 > 10.0.0.2:53 udp" {
		t.Fatalf("String() = %q", k.String())
	}
	r := k.Reverse()
	if r.String() != "10.0.0.2:53 > 10.0.0.1:5353 udp" || r.Reverse() != k {
		t.Fatalf("Reverse() = %v", r)
	}
	k6 := MustKey("2001:db8::1", "2001:db8::2", 443, 51000, ProtoTCP)
	if k6.Len() != KeyLen6 || k6.String() != "[2001:db8::1]:443 > [2001:db8::2]:51000 tcp" {
		t.Fatalf("IPv6 key %v len %d", k6, k6.Len())
	}
	back, err := KeyFromBytes(k6.Bytes())
	if err != nil || back != k6 {
		t.Fatalf("KeyFromBytes round trip: %v %v", back, err)
	}
	if _, err := KeyFromBytes(make([]byte, 12)); err == nil {
		t.Fatal("KeyFromBytes accepted 12 bytes")
	}
	var zero Key
	if zero.IsValid() || zero.Src().IsValid() || zero.Dst().IsValid() || zero.SrcPort() != 0 || zero.DstPort() != 0 || zero.Proto() != 0 || zero.String() != "invalid flow" || len(zero.Bytes()) != 0 {
		t.Fatal("zero Key must be invalid and harmless")
	}
	if _, err := KeyFrom(k.Src(), k6.Dst(), 1, 2, 6); err == nil {
		t.Fatal("KeyFrom accepted mixed families")
	}
	mapped, err := KeyFrom(k.Src(), k.Dst(), 5353, 53, ProtoUDP)
	if err != nil || mapped != k {
		t.Fatalf("KeyFrom: %v %v", mapped, err)
	}
}

func TestHash_NoAllocs(t *testing.T) {
	k := MustKey("2001:db8::1", "2001:db8::2", 443, 51000, ProtoTCP)
	var sink uint64
	allocs := testing.AllocsPerRun(1000, func() {
		sink += k.Hash(42) + uint64(Index(sink, 3, 1000))
	})
	if allocs != 0 {
		t.Fatalf("Hash and Index allocate %v times per run", allocs)
	}
}

// TestKey_NoAllocs guards the allocation-free key methods: appending the
// canonical bytes to a large enough slice, Bytes, Array, Reverse, the
// accessors and KeyFromBytes.
func TestKey_NoAllocs(t *testing.T) {
	k := MustKey("2001:db8::1", "2001:db8::2", 443, 51000, ProtoTCP)
	dst := make([]byte, 0, 2*MaxKeyLen)
	var sink int
	allocs := testing.AllocsPerRun(1000, func() {
		dst = k.AppendBytes(dst[:0])
		r := k.Reverse()
		a, n := r.Array()
		back, err := KeyFromBytes(r.Bytes())
		if err != nil || back != r {
			t.Fatal("KeyFromBytes round trip")
		}
		sink += len(dst) + n + int(a[0]) + int(r.SrcPort()+r.DstPort()) + int(r.Proto())
		if r.Src().Is4() || r.Dst().Is4() {
			sink++
		}
	})
	if allocs != 0 || sink == 0 {
		t.Fatalf("key methods allocate %v times per run", allocs)
	}
}

func BenchmarkHash(b *testing.B) {
	for _, k := range []Key{MustKey("10.0.0.1", "10.0.0.2", 5353, 53, ProtoUDP), MustKey("2001:db8::1", "2001:db8::2", 443, 51000, ProtoTCP)} {
		b.Run(fmt.Sprintf("L=%d/impl=dataplane", k.Len()), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			for b.Loop() {
				sink += k.Hash(sink)
			}
		})
		b.Run(fmt.Sprintf("L=%d/impl=cespare-xxhash", k.Len()), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			kb := k.Bytes()
			for b.Loop() {
				d := xxhash.NewWithSeed(sink)
				d.Write(kb)
				sink += d.Sum64()
			}
		})
	}
}

// BenchmarkHash_Throughput hashes independent keys, as a packet loop does.
func BenchmarkHash_Throughput(b *testing.B) {
	for _, n := range []int{KeyLen4, KeyLen6} {
		keys := make([]Key, 1024)
		rng := rand.New(rand.NewPCG(5, 6))
		for i := range keys {
			var src, dst [16]byte
			for j := range src {
				src[j], dst[j] = byte(rng.Uint32()), byte(rng.Uint32())
			}
			if n == KeyLen4 {
				keys[i] = KeyFrom4([4]byte(src[:4]), [4]byte(dst[:4]), uint16(i), 53, ProtoUDP)
			} else {
				keys[i] = KeyFrom16(src, dst, uint16(i), 443, ProtoTCP)
			}
		}
		b.Run(fmt.Sprintf("L=%d/impl=dataplane", n), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			for b.Loop() {
				for i := range keys {
					sink ^= keys[i].Hash(42)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
		})
		b.Run(fmt.Sprintf("L=%d/impl=cespare-xxhash-seed0", n), func(b *testing.B) {
			b.ReportAllocs()
			var sink uint64
			for b.Loop() {
				for i := range keys {
					sink ^= xxhash.Sum64(keys[i].Bytes())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
		})
	}
}

// TestKey_Padded: the padded form of both families and its inverse, and
// an error naming the broken rule for each kind of bad input.
func TestKey_Padded(t *testing.T) {
	for _, k := range []Key{
		MustKey("10.0.0.1", "10.0.0.2", 5353, 53, ProtoUDP),
		MustKey("2001:db8::1", "2001:db8::2", 443, 51000, ProtoTCP),
	} {
		p := k.Padded()
		if !bytes.Equal(p[:k.Len()], k.Bytes()) || p[PaddedLen-1] != byte(k.Len()) || !bytes.Equal(p[k.Len():PaddedLen-1], make([]byte, PaddedLen-1-k.Len())) {
			t.Errorf("%v pads to %x", k, p)
		}
		if got, err := KeyFromPadded(p[:]); err != nil || got != k {
			t.Errorf("KeyFromPadded(%v.Padded()) = %v, %v", k, got, err)
		}
	}
	if p := (Key{}).Padded(); p != [PaddedLen]byte{} {
		t.Errorf("the zero Key pads to %x, want zeros", p)
	}
	good := MustKey("10.0.0.1", "10.0.0.2", 1, 2, ProtoTCP).Padded()
	dirty := good
	dirty[30] = 0xff
	badLen := good
	badLen[PaddedLen-1] = 20
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"short", good[:39], "must be 40 bytes, got 39"},
		{"length byte", badLen[:], "length byte must be 13 or 37, got 20"},
		{"padding", dirty[:], "byte 30 is 0xff"},
		{"zero", make([]byte, PaddedLen), "got 0"},
	} {
		if k, err := KeyFromPadded(c.b); err == nil || !strings.Contains(err.Error(), c.want) || k.IsValid() {
			t.Errorf("%s: %v, %v; want an error containing %q", c.name, k, err, c.want)
		}
	}
}

// TestMustKey_Panics: MustKey's panics say which address is wrong, with
// the package's prefix.
func TestMustKey_Panics(t *testing.T) {
	for _, c := range []struct{ src, dst, want string }{
		{"10.0.0.1:80", "10.0.0.2", "flow: MustKey: source address"},
		{"10.0.0.1", "nope", "flow: MustKey: destination address"},
		{"10.0.0.1", "2001:db8::1", "one family"},
	} {
		func() {
			defer func() {
				err, _ := recover().(error)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("MustKey(%q, %q): panic %v, want one containing %q", c.src, c.dst, err, c.want)
				}
			}()
			MustKey(c.src, c.dst, 1, 2, ProtoTCP)
		}()
	}
}
