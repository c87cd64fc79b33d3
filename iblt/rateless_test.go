package iblt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/dataplane-go/dataplane/flow"
)

// reconcile runs one rateless session: the sender holds common+onlyA keys,
// the receiver common+onlyB; it returns the symbols needed and checks the
// recovered difference.
func reconcile(t testing.TB, rng *rand.Rand, common, onlyA, onlyB, keyLen int) int {
	seed := rng.Uint64()
	keys := randKeys(rng, common+onlyA+onlyB, keyLen)
	enc, _ := NewEncoder(keyLen, seed)
	dec, _ := NewDecoder(keyLen, seed)
	for i, k := range keys {
		if i < common+onlyA {
			enc.Add(k)
		}
		if i < common || i >= common+onlyA {
			dec.AddLocal(k)
		}
	}
	var sym []byte
	limit := 10*(onlyA+onlyB) + 100
	for !dec.Done() {
		if dec.Received() > limit {
			t.Fatalf("no decode after %d symbols for a difference of %d", limit, onlyA+onlyB)
		}
		sym = enc.AppendNext(sym[:0])
		if err := dec.AddSymbol(sym); err != nil {
			t.Fatal(err)
		}
	}
	want := func(lo, hi int) []string {
		var s []string
		for _, k := range keys[lo:hi] {
			s = append(s, string(k))
		}
		sort.Strings(s)
		return s
	}
	got := func(ks [][]byte) []string {
		var s []string
		for _, k := range ks {
			s = append(s, string(k))
		}
		sort.Strings(s)
		return s
	}
	if g, w := got(dec.Remote()), want(common, common+onlyA); !equalStrings(g, w) {
		t.Fatalf("remote: recovered %d keys, want %d", len(g), len(w))
	}
	if g, w := got(dec.Local()), want(common+onlyA, len(keys)); !equalStrings(g, w) {
		t.Fatalf("local: recovered %d keys, want %d", len(g), len(w))
	}
	return dec.Received()
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRateless_RoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range []struct{ common, a, b, keyLen int }{
		{0, 0, 0, 13}, {10, 0, 0, 13}, {0, 1, 0, 13}, {0, 0, 1, 13}, {100, 3, 4, 1},
		{1000, 50, 50, 37}, {5000, 500, 0, 8}, {5000, 0, 500, 64}, {2000, 700, 300, 13},
	} {
		n := reconcile(t, rng, c.common, c.a, c.b, c.keyLen)
		if d := c.a + c.b; d > 0 && float64(n) > 3*float64(d)+10 {
			t.Errorf("%+v: %d symbols for %d differences", c, n, d)
		}
	}
}

// TestRateless_Overhead: the mean symbols per difference at d = 1000 stay
// at most 1.40 (the paper's asymptote is 1.35; the target 1.40)
// over 40 sessions.
func TestRateless_Overhead(t *testing.T) {
	sessions := 40
	if testing.Short() {
		sessions = 5
	}
	rng := rand.New(rand.NewPCG(23, 24))
	const d = 1000
	var sum float64
	for range sessions {
		sum += float64(reconcile(t, rng, 2000, d/2, d/2, 13)) / d
	}
	mean := sum / float64(sessions)
	t.Logf("d=%d: %.3f symbols/difference over %d sessions", d, mean, sessions)
	if mean > 1.40 {
		t.Errorf("mean %.3f symbols per difference, want <= 1.40", mean)
	}
}

// TestMapping_Density checks that index i is taken with probability
// 1/(1+i/2): over 20,000 keys, the count at each probed index is within
// 5 standard deviations of the binomial mean.
func TestMapping_Density(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	const keys = 20000
	probe := []uint64{0, 1, 2, 3, 5, 10, 30, 100, 1000}
	counts := make([]int, len(probe))
	for range keys {
		m := mapping{h: rng.Uint64()}
		for j, i := range probe {
			for m.idx < i {
				m.next()
			}
			if m.idx == i {
				counts[j]++
			}
		}
	}
	for j, i := range probe {
		p := 1 / (1 + float64(i)/2)
		mean, sd := keys*p, math.Sqrt(keys*p*(1-p))
		if math.Abs(float64(counts[j])-mean) > 5*sd+1 {
			t.Errorf("index %d taken %d times of %d, want about %.0f", i, counts[j], keys, mean)
		}
	}
}

// TestCoder_Extend checks the symbols of extend, which walks keys in two
// lanes, against the definition: each key, walked alone from index 0,
// added to every symbol it maps to. Key counts 0 to 3 and an odd count
// exercise the lanes' ends; keys added between extensions exercise add.
func TestCoder_Extend(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{0, 1, 2, 3, 1001} {
		keys := randKeys(rng, n+5, 13)
		c, _ := newCoder(13, 77)
		for _, k := range keys[:n] {
			c.add(k)
		}
		c.extend(100)
		for _, k := range keys[n:] {
			c.add(k)
		}
		c.extend(700)
		want := make([]uint64, c.n*c.stride)
		var kw [2]uint64
		for _, k := range keys {
			loadKey(kw[:], k)
			cs := flow.Hash64(k, c.check)
			for m := (mapping{h: flow.Hash64(k, c.seed)}); m.idx < uint64(c.n); m.next() {
				s := want[int(m.idx)*c.stride:]
				s[sCount]++
				s[sCheck] ^= cs
				s[sKey] ^= kw[0]
				s[sKey+1] ^= kw[1]
			}
		}
		for i := range want {
			if c.sym[i] != want[i] {
				t.Fatalf("%d keys: symbol %d word %d = %#x, want %#x", n+5, i/c.stride, i%c.stride, c.sym[i], want[i])
			}
		}
	}
}

// Keys must all be added before the first symbol, on both sides: a key
// the sender added later is missing from the symbols already sent (symbol
// 0 holds every key), and decoding could never finish.
func TestRateless_AddAfterFirstSymbol(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	keys := randKeys(rng, 3, 16)
	enc, _ := NewEncoder(16, 1)
	dec, _ := NewDecoder(16, 1)
	if err := enc.Add(keys[0]); err != nil {
		t.Fatal(err)
	}
	if err := dec.AddLocal(keys[1]); err != nil {
		t.Fatal(err)
	}
	sym := enc.AppendNext(nil)
	if err := enc.Add(keys[2]); err == nil {
		t.Error("Encoder.Add after a symbol was produced: no error")
	}
	if err := dec.AddSymbol(sym); err != nil {
		t.Fatal(err)
	}
	if err := dec.AddLocal(keys[2]); err == nil {
		t.Error("Decoder.AddLocal after a symbol was received: no error")
	}
	for i := 0; i < 20 && !dec.Done(); i++ {
		dec.AddSymbol(enc.AppendNext(sym[:0]))
	}
	if !dec.Done() || len(dec.Remote()) != 1 || !bytes.Equal(dec.Remote()[0], keys[0]) ||
		len(dec.Local()) != 1 || !bytes.Equal(dec.Local()[0], keys[1]) {
		t.Errorf("after refused adds: done %v, remote %x, local %x; want keys[0] remote, keys[1] local", dec.Done(), dec.Remote(), dec.Local())
	}
}

// A key added twice would cancel in every key and checksum sum while
// counting twice, so the peer could never decode: Encoder.Add and
// Decoder.AddLocal refuse it with ErrDuplicateKey and change nothing, and
// the session then decodes as if the second add had not been made.
func TestRateless_DuplicateKey(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	keys := randKeys(rng, 10, 16)
	enc, _ := NewEncoder(16, 9)
	dec, _ := NewDecoder(16, 9)
	for _, k := range keys[:9] {
		enc.Add(k)
	}
	for _, k := range keys[1:] {
		dec.AddLocal(k)
	}
	for name, add := range map[string]func([]byte) error{"Encoder.Add": enc.Add, "Decoder.AddLocal": dec.AddLocal} {
		dup := append([]byte(nil), keys[5]...) // equal bytes, another slice
		err := add(dup)
		if !errors.Is(err, ErrDuplicateKey) || !strings.Contains(err.Error(), "duplicate key") || !strings.Contains(err.Error(), "distinct") {
			t.Errorf("%s of a key already added: %v, want an error wrapping ErrDuplicateKey naming the problem", name, err)
		}
	}
	if enc.Len() != 9 {
		t.Errorf("Encoder.Len after a refused duplicate = %d, want 9", enc.Len())
	}
	var sym []byte
	for i := 0; i < 50 && !dec.Done(); i++ {
		sym = enc.AppendNext(sym[:0])
		if err := dec.AddSymbol(sym); err != nil {
			t.Fatal(err)
		}
	}
	if !dec.Done() || len(dec.Remote()) != 1 || !bytes.Equal(dec.Remote()[0], keys[0]) ||
		len(dec.Local()) != 1 || !bytes.Equal(dec.Local()[0], keys[9]) {
		t.Errorf("after refused duplicates: done %v, remote %x, local %x; want keys[0] remote, keys[9] local", dec.Done(), dec.Remote(), dec.Local())
	}
}

// A refused duplicate leaves the encoder as it was, for the keys added
// after it too: adding keys[2] again between keys[4] and keys[5] gives the
// symbols of the set added without it, byte for byte.
func TestRateless_DuplicateKeyThenMore(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2))
	for _, keyLen := range []int{5, 16} {
		keys := randKeys(rng, 10, keyLen)
		with, _ := NewEncoder(keyLen, 4)
		without, _ := NewEncoder(keyLen, 4)
		for i, k := range keys {
			if i == 5 {
				if err := with.Add(keys[2]); !errors.Is(err, ErrDuplicateKey) {
					t.Fatalf("L=%d: Add(keys[2]) again: %v, want ErrDuplicateKey", keyLen, err)
				}
			}
			if err := with.Add(k); err != nil {
				t.Fatal(err)
			}
			if err := without.Add(k); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 100 {
			if a, b := with.AppendNext(nil), without.AppendNext(nil); !bytes.Equal(a, b) {
				t.Fatalf("L=%d: symbol %d is %x after a refused duplicate, %x without it", keyLen, i, a, b)
			}
		}
	}
}

// Distinct keys are never refused, even when they differ in one bit only
// (the duplicate check compares every key byte, not a hash); each is
// refused when added again.
func TestRateless_DistinctKeysAccepted(t *testing.T) {
	for _, keyLen := range []int{1, 8, 13, 37, MaxKeyLen} {
		enc, _ := NewEncoder(keyLen, 3)
		keys := [][]byte{make([]byte, keyLen)} // zero, then every one-bit key
		for b := range 8 * keyLen {
			k := make([]byte, keyLen)
			k[b/8] = 1 << (b % 8)
			keys = append(keys, k)
		}
		for _, k := range keys {
			if err := enc.Add(k); err != nil {
				t.Fatalf("L=%d: Add(%x): %v", keyLen, k, err)
			}
		}
		for _, k := range keys {
			if err := enc.Add(k); !errors.Is(err, ErrDuplicateKey) {
				t.Fatalf("L=%d: Add(%x) again: %v, want ErrDuplicateKey", keyLen, k, err)
			}
		}
		if enc.Len() != len(keys) {
			t.Errorf("L=%d: Len %d, want %d", keyLen, enc.Len(), len(keys))
		}
	}
}

// keySet tells apart keys whose index hashes are equal (and so share
// slot and tag): only equal key words are a match.
func TestKeySet_EqualHashes(t *testing.T) {
	var s keySet
	keys := []uint64{1, 2, 3, 1, 2, 4} // two keys of 3 words
	const h = 0xfeedface12345678
	for j := range 2 {
		s.reserve(j + 1)
		if got, slot := s.find(h, keys[3*j:3*j+3], keys, 3); got >= 0 {
			t.Fatalf("key %d found as %d before it was added", j, got)
		} else {
			s.insert(slot, h, j)
		}
	}
	for j := range 2 {
		if got, _ := s.find(h, keys[3*j:3*j+3], keys, 3); got != j {
			t.Errorf("key %d found as %d", j, got)
		}
	}
	if got, _ := s.find(h, []uint64{1, 2, 5}, keys, 3); got >= 0 {
		t.Errorf("a key never added found as %d", got)
	}
	// Growing keeps every key.
	s.reserve(1000)
	for j := range 2 {
		if got, _ := s.find(h, keys[3*j:3*j+3], keys, 3); got != j {
			t.Errorf("after growing, key %d found as %d", j, got)
		}
	}
}

// Adding keys, with room reserved by Grow, does not allocate: neither
// Encoder.Add nor Decoder.AddLocal, for short and long keys.
func TestRateless_AddNoAllocs(t *testing.T) {
	for _, keyLen := range []int{13, 37, MaxKeyLen} {
		enc, _ := NewEncoder(keyLen, 1)
		dec, _ := NewDecoder(keyLen, 1)
		const n = 3000
		enc.Grow(n)
		dec.Grow(n)
		key := make([]byte, keyLen)
		i := 0
		next := func() []byte { i++; binary.LittleEndian.PutUint16(key, uint16(i)); return key }
		if a := testing.AllocsPerRun(1000, func() { enc.Add(next()) }); a != 0 {
			t.Errorf("L=%d: Encoder.Add allocates %v times", keyLen, a)
		}
		i = 0
		if a := testing.AllocsPerRun(1000, func() { dec.AddLocal(next()) }); a != 0 {
			t.Errorf("L=%d: Decoder.AddLocal allocates %v times", keyLen, a)
		}
		if enc.Len() != 1001 || len(dec.local.maps) != 1001 {
			t.Errorf("L=%d: %d and %d keys added, want 1001 (AllocsPerRun runs once more)", keyLen, enc.Len(), len(dec.local.maps))
		}
	}
}

// TestRateless_GrowWildHint: Grow takes any n without panicking or
// reserving a wild amount of memory, and the coders still work after it.
func TestRateless_GrowWildHint(t *testing.T) {
	for _, n := range []int{-1, math.MaxInt} {
		enc, _ := NewEncoder(MaxKeyLen, 1)
		dec, _ := NewDecoder(MaxKeyLen, 1)
		enc.Grow(n)
		dec.Grow(n)
		if c := cap(enc.c.keys); c > 1<<24 {
			t.Errorf("Grow(%d) reserved %d key words (128 MiB or more)", n, c)
		}
		if err := enc.Add(make([]byte, MaxKeyLen)); err != nil {
			t.Errorf("Grow(%d), then Add: %v", n, err)
		}
		if err := dec.AddLocal(make([]byte, MaxKeyLen)); err != nil {
			t.Errorf("Grow(%d), then AddLocal: %v", n, err)
		}
	}
}

// Keys of the wrong length and key lengths out of range are refused with
// errors that say what was given and what is accepted; a refused key
// changes nothing, and Produced counts the symbols handed out.
func TestRateless_KeyLength(t *testing.T) {
	for _, n := range []int{0, -1, MaxKeyLen + 1} {
		if _, err := NewEncoder(n, 1); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("key length must be in [1, %d], got %d", MaxKeyLen, n)) {
			t.Errorf("NewEncoder(%d, 1): %v, want the range refused", n, err)
		}
		if _, err := NewDecoder(n, 1); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("key length must be in [1, %d], got %d", MaxKeyLen, n)) {
			t.Errorf("NewDecoder(%d, 1): %v, want the range refused", n, err)
		}
	}
	enc, err := NewEncoder(MaxKeyLen, 1)
	if err != nil {
		t.Fatalf("NewEncoder(MaxKeyLen): %v", err)
	}
	dec, _ := NewDecoder(MaxKeyLen, 1)
	for _, n := range []int{0, 1, MaxKeyLen - 1, MaxKeyLen + 1} {
		want := fmt.Sprintf("iblt: key length must be %d, got %d", MaxKeyLen, n)
		if err := enc.Add(make([]byte, n)); err == nil || err.Error() != want {
			t.Errorf("Encoder.Add of %d bytes: %v, want %q", n, err, want)
		}
		if err := dec.AddLocal(make([]byte, n)); err == nil || err.Error() != want {
			t.Errorf("Decoder.AddLocal of %d bytes: %v, want %q", n, err, want)
		}
	}
	if enc.Len() != 0 || enc.Produced() != 0 {
		t.Fatalf("after refused keys: Len %d, Produced %d; want 0, 0", enc.Len(), enc.Produced())
	}
	key := bytes.Repeat([]byte{7}, MaxKeyLen)
	if err := enc.Add(key); err != nil {
		t.Fatal(err)
	}
	var sym []byte
	for i := 1; i <= 3; i++ {
		sym = enc.AppendNext(sym[:0])
		if enc.Produced() != i {
			t.Fatalf("Produced after %d symbols: %d", i, enc.Produced())
		}
		if err := dec.AddSymbol(sym); err != nil {
			t.Fatal(err)
		}
	}
	if !dec.Done() || len(dec.Remote()) != 1 || !bytes.Equal(dec.Remote()[0], key) {
		t.Fatalf("a key of MaxKeyLen bytes: done %v, remote %x", dec.Done(), dec.Remote())
	}
}
