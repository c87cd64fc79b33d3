package iblt

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// session is one rateless exchange: the sender's and receiver's sets, the
// sender's first symbols, and the number an honest decode needs.
type session struct {
	keyLen       int
	seed         uint64
	a, b         [][]byte // sender's, receiver's
	onlyA, onlyB map[string]bool
	stream       [][]byte
	need         int
}

func newSession(t testing.TB, rng *rand.Rand, common, onlyA, onlyB, keyLen int) *session {
	t.Helper()
	s := &session{keyLen: keyLen, seed: rng.Uint64(), onlyA: map[string]bool{}, onlyB: map[string]bool{}}
	keys := randKeys(rng, common+onlyA+onlyB, keyLen)
	s.a = keys[:common+onlyA]
	s.b = append(slices.Clip(keys[:common]), keys[common+onlyA:]...)
	for _, k := range keys[common : common+onlyA] {
		s.onlyA[string(k)] = true
	}
	for _, k := range keys[common+onlyA:] {
		s.onlyB[string(k)] = true
	}
	enc := s.encoder(s.seed)
	dec := s.decoder()
	for !dec.Done() {
		if len(s.stream) > 10*(onlyA+onlyB)+100 {
			t.Fatalf("an honest session of %d keys and %d differences did not decode in %d symbols", len(keys), onlyA+onlyB, len(s.stream))
		}
		sym := enc.AppendNext(nil)
		s.stream = append(s.stream, sym)
		if err := dec.AddSymbol(sym); err != nil {
			t.Fatalf("an honest session's symbol %d: %v", len(s.stream)-1, err)
		}
	}
	s.need = dec.Received()
	for len(s.stream) < 10*s.need {
		s.stream = append(s.stream, enc.AppendNext(nil))
	}
	return s
}

func (s *session) encoder(seed uint64) *Encoder {
	enc, _ := NewEncoder(s.keyLen, seed)
	for _, k := range s.a {
		enc.Add(k)
	}
	return enc
}

func (s *session) decoder() *Decoder {
	dec, _ := NewDecoder(s.keyLen, s.seed)
	for _, k := range s.b {
		dec.AddLocal(k)
	}
	return dec
}

type outcome int

const (
	detected outcome = iota
	stalled
	decoded
	another // Done, with the difference of another set whose symbols the corrupt stream begins with
)

// run feeds the whole stream to a fresh decoder, or until it proves
// corruption; symbols after Done are checked by the decoder too. It checks
// what a decoder promises for any stream (every error wraps ErrCorrupt,
// Local keys are local keys, Remote keys are not, no key twice) and, when
// Done, what Done promises: the symbols fed are exactly the first symbols
// of the receiver's set with Remote added and Local taken out. That set is
// the sender's (outcome decoded) unless the corruption left a stream that
// begins with another set's symbols (outcome another), which no check can
// see: a lost first symbol does it often for small sets
// (TestDecoder_LostFirstSymbol).
func (s *session) run(t testing.TB, stream [][]byte) (outcome, int) {
	dec := s.decoder()
	local := map[string]bool{}
	for _, k := range s.b {
		local[string(k)] = true
	}
	var err error
	for _, sym := range stream {
		if err = dec.AddSymbol(sym); err != nil {
			break
		}
	}
	if err != nil && !errors.Is(err, ErrCorrupt) {
		t.Fatalf("AddSymbol: %v, want an error wrapping ErrCorrupt", err)
	}
	seen := map[string]bool{}
	for _, k := range dec.Remote() {
		if local[string(k)] || seen[string(k)] {
			t.Fatalf("remote key %x is local or listed twice (err %v)", k, err)
		}
		seen[string(k)] = true
	}
	for _, k := range dec.Local() {
		if !local[string(k)] || seen[string(k)] {
			t.Fatalf("local key %x is not local or listed twice (err %v)", k, err)
		}
		seen[string(k)] = true
	}
	switch {
	case err != nil:
		return detected, dec.Received()
	case !dec.Done():
		return stalled, dec.Received()
	}
	// Done: the symbols fed are those of the decoded set.
	enc, _ := NewEncoder(s.keyLen, s.seed)
	for _, k := range s.b {
		if !seen[string(k)] {
			enc.Add(k)
		}
	}
	for _, k := range dec.Remote() {
		enc.Add(k)
	}
	for i, sym := range stream[:dec.Received()] {
		if want := enc.AppendNext(nil); !bytes.Equal(sym, want) {
			t.Fatalf("done with %d remote and %d local keys, but symbol %d of %d is %x, not %x, the symbol of that set", len(dec.Remote()), len(dec.Local()), i, dec.Received(), sym, want)
		}
	}
	if len(dec.Remote()) != len(s.onlyA) || len(dec.Local()) != len(s.onlyB) {
		return another, dec.Received()
	}
	for _, k := range dec.Remote() {
		if !s.onlyA[string(k)] {
			return another, dec.Received()
		}
	}
	for _, k := range dec.Local() {
		if !s.onlyB[string(k)] {
			return another, dec.Received()
		}
	}
	return decoded, dec.Received()
}

// TestDecoder_DetectsCorruption corrupts the stream of sessions of 1,050
// keys a side, 100 differences, in six ways, and feeds each to a decoder
// for up to 10 times the symbols the honest stream needs. Whatever the
// corruption, the decoder must keep its promises (see run): one decoding
// to Done must have been fed exactly the symbols of the set it decoded.
// Each corruption
// must be proven in at least 95% of sessions; all were when this was
// written, at the mean point logged (the numbers in AddSymbol's doc).
func TestDecoder_DetectsCorruption(t *testing.T) {
	sessions := 200
	if testing.Short() {
		sessions = 20
	}
	rng := rand.New(rand.NewPCG(31, 32))
	kinds := []string{"flip", "swap", "drop", "repeat", "seed", "keylen"}
	counts := map[string][4]int{}
	at := map[string]float64{}
	for range sessions {
		s := newSession(t, rng, 1000, 50, 50, 13)
		for _, kind := range kinds {
			st := slices.Clone(s.stream)
			j := rng.IntN(s.need - 1) // the symbols before the last one needed
			switch kind {
			case "flip": // one bit of symbol j
				c := slices.Clone(st[j])
				c[rng.IntN(len(c))] ^= 1 << rng.IntN(8)
				st[j] = c
			case "swap": // symbols j and k
				k := rng.IntN(s.need - 1)
				if k >= j {
					k++
				}
				st[j], st[k] = st[k], st[j]
			case "drop": // symbol j
				st = slices.Delete(st, j, j+1)
			case "repeat": // symbol j, twice
				st = slices.Insert(st, j, st[j])
			case "seed": // the sender's seed, plus one
				enc := s.encoder(s.seed + 1)
				for i := range st {
					st[i] = enc.AppendNext(nil)
				}
			case "keylen": // 16-byte keys, the 13 and three zero bytes, cut as 13-byte symbols
				enc, _ := NewEncoder(16, s.seed)
				for _, k := range s.a {
					enc.Add(append(slices.Clone(k), 0, 0, 0))
				}
				var all []byte
				for len(all) < len(st)*SymbolSize(13) {
					all = enc.AppendNext(all)
				}
				for i := range st {
					st[i] = all[i*SymbolSize(13) : (i+1)*SymbolSize(13)]
				}
			}
			o, n := s.run(t, st)
			c := counts[kind]
			c[o]++
			counts[kind] = c
			if o == detected {
				at[kind] += float64(n) / float64(s.need)
			}
		}
	}
	for _, kind := range kinds {
		c := counts[kind]
		t.Logf("%-6s: %3d detected (at %.2f times the symbols needed), %3d stalled, %3d decoded, %3d another set, of %d", kind, c[detected], at[kind]/float64(max(c[detected], 1)), c[stalled], c[decoded], c[another], sessions)
		if c[detected] < sessions*95/100 {
			t.Errorf("%s: %d of %d sessions proven corrupt, want at least 95%%", kind, c[detected], sessions)
		}
	}
}

// TestDecoder_AnotherSeed: a sender with another seed is proven at the
// first symbol counting one key, whose index grows with the sender's set.
// Every session must be proven within 2 times the sender's number of keys
// (at most 1.53 times when this was written); the medians logged are the
// numbers in AddSymbol's doc.
func TestDecoder_AnotherSeed(t *testing.T) {
	sessions := 50
	if testing.Short() {
		sessions = 5
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{10, 100, 1000, 10000} {
		var at []float64
		for range sessions {
			keys := randKeys(rng, n+10, 13)
			seed := rng.Uint64()
			enc, _ := NewEncoder(13, seed+1)
			dec, _ := NewDecoder(13, seed)
			for i, k := range keys {
				if i < n+5 {
					enc.Add(k)
				}
				if i >= 5 {
					dec.AddLocal(k)
				}
			}
			for dec.Received() < 2*(n+5) {
				if err := dec.AddSymbol(enc.AppendNext(nil)); err != nil {
					if !strings.Contains(err.Error(), "another seed") {
						t.Errorf("%d keys: %v, want the check of a symbol counting one key", n+5, err)
					}
					at = append(at, float64(dec.Received())/float64(n+5))
					break
				}
			}
		}
		if len(at) < sessions {
			t.Errorf("%d keys: %d of %d sessions proven within %d symbols", n+5, len(at), sessions, 2*(n+5))
			continue
		}
		slices.Sort(at)
		t.Logf("%5d keys: proven after %.2f (median), %.2f (max) times as many symbols", n+5, at[len(at)/2], at[len(at)-1])
	}
}

// TestDecoder_LostFirstSymbol pins a limit that AddSymbol's doc states:
// with small sets, a stream whose first symbol is lost often begins with
// the symbols of another set, and the decoder is Done at once with a wrong
// difference (about a third of the sessions here: symbol 1 holds no
// differing key, or the shared key alone). The symbols fed after Done are
// checked, and prove it ever more surely: the logged fractions are the
// numbers in the doc.
func TestDecoder_LostFirstSymbol(t *testing.T) {
	const sessions = 1000
	rng := rand.New(rand.NewPCG(51, 52))
	for _, shared := range []int{0, 1} {
		wrong := 0
		var still [17]int // wrong and still Done after i more symbols
		for range sessions {
			keys := randKeys(rng, shared+1, 13)
			seed := rng.Uint64()
			enc, _ := NewEncoder(13, seed)
			dec, _ := NewDecoder(13, seed)
			for i, k := range keys {
				enc.Add(k)
				if i < shared {
					dec.AddLocal(k)
				}
			}
			enc.AppendNext(nil) // symbol 0, lost
			if err := dec.AddSymbol(enc.AppendNext(nil)); err != nil || !dec.Done() {
				continue
			}
			if len(dec.Remote()) == 1 && len(dec.Local()) == 0 && string(dec.Remote()[0]) == string(keys[shared]) {
				continue // symbol 1 holds the differing key: right by chance
			}
			wrong++
			for i := 1; i < len(still); i++ {
				if err := dec.AddSymbol(enc.AppendNext(nil)); err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("AddSymbol: %v, want an error wrapping ErrCorrupt", err)
					}
					break
				}
				still[i]++
			}
		}
		t.Logf("sender %d keys, receiver %d of them, symbol 0 lost: wrongly Done at once in %d of %d sessions; still after 4, 8, 16 more symbols: %d, %d, %d",
			shared+1, shared, wrong, sessions, still[4], still[8], still[16])
		if wrong < sessions/5 {
			t.Errorf("wrongly Done in %d of %d sessions; the doc says about a third", wrong, sessions)
		}
		if still[16] > sessions/50 {
			t.Errorf("%d of %d sessions still wrongly Done after 16 more symbols, want at most 2%%", still[16], sessions)
		}
	}
}
