package iblt

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/dataplane-go/dataplane/flow"
)

// The rateless code (Yang, Gilad and Alizadeh, SIGCOMM 2024). A set of
// keys defines an unbounded sequence of coded symbols; coded symbol i is
// the cell-like sum (count, checksum XOR, key XOR) of the keys mapped to
// index i. Every key maps to index 0, and to index i with probability
// 1/(1 + i/2), so early symbols hold many keys and late ones few. A
// receiver subtracts its own set's symbols from the sender's and peels as
// symbols arrive; it needs about 1.35 symbols per difference for large
// differences, whatever their number.

// mapping walks the indexes of one key. Index j is taken with probability
// 1/(1+j/2) = 2/(j+2), independently, so from the current index i the
// chance that none of the next x indexes is taken is
// prod_{j=i+1}^{i+x} j/(j+2) = A/((i+x+1)(i+x+2)) with A = (i+1)(i+2).
// Inverting it for v uniform in (0, 1] gives the gap exactly:
// x = ceil(sqrt(A/v + 1/4) - i - 3/2), at least 1. v comes from
// flow.Mix(h, step), a counter-based generator over the key's index hash.
type mapping struct {
	h    uint64 // the key's index hash
	step uint32 // draws so far
	idx  uint64 // current index
}

// maxIndex caps indexes so the float arithmetic stays exact; symbols past
// it are never produced.
const maxIndex = 1 << 52

func (m *mapping) next() uint64 {
	m.idx = nextIndex(m.idx, flow.Mix(m.h, m.step))
	m.step++
	return m.idx
}

// nextIndex returns the index after idx for the random word r (see
// mapping), capped at maxIndex.
func nextIndex(idx, r uint64) uint64 {
	i := float64(idx)
	v := float64(r>>11+1) * 0x1p-53
	g := math.Ceil(math.Sqrt((i+1)*(i+2)/v+0.25) - i - 1.5)
	if g < 1 {
		g = 1
	}
	if g >= float64(maxIndex-idx) {
		return maxIndex
	}
	return idx + uint64(g)
}

// maps reports whether index i is one of the indexes of the key whose
// index hash is h.
func maps(h uint64, i uint64) bool {
	m := mapping{h: h}
	for m.idx < i {
		m.next()
	}
	return m.idx == i
}

// Symbol words: count, checksum XOR, key XOR (as in a Table cell, without
// the value).
const (
	sCount = 0
	sCheck = 1
	sKey   = 2
)

// SymbolSize returns the size in bytes of one coded symbol on the wire for
// keys of keyLen bytes: count (int64), checksum XOR (uint64), then the key
// XOR, all little-endian.
func SymbolSize(keyLen int) int { return 16 + keyLen }

// coder holds a set of keys and the prefix of its coded symbols.
type coder struct {
	keyLen, words, stride int
	seed, check           uint64
	maps                  []mapping
	checks                []uint64
	keys                  []uint64 // key words, words per key
	set                   keySet   // the keys, to refuse duplicates
	sym                   []uint64 // computed symbols, stride words each
	n                     int      // symbols computed
}

func newCoder(keyLen int, seed uint64) (coder, error) {
	if keyLen < 1 || keyLen > MaxKeyLen {
		return coder{}, fmt.Errorf("iblt: key length must be in [1, %d], got %d", MaxKeyLen, keyLen)
	}
	w := (keyLen + 7) / 8
	return coder{keyLen: keyLen, words: w, stride: sKey + w, seed: seed, check: ChecksumSeed(seed)}, nil
}

func (c *coder) keyLenError(n int) error {
	return fmt.Errorf("iblt: key length must be %d, got %d", c.keyLen, n)
}

// grow reserves room for n more keys.
func (c *coder) grow(n int) {
	if n > 0 {
		c.maps = slices.Grow(c.maps, n)
		c.checks = slices.Grow(c.checks, n)
		c.keys = slices.Grow(c.keys, n*c.words)
		c.set.reserve(len(c.maps) + min(n, maxSetKeys))
	}
}

// add adds key to the set, and to the symbols already computed. A key
// already in the set is refused with an error wrapping ErrDuplicateKey,
// and the coder is left as it was: two copies would cancel in every key
// and checksum sum while counting twice, and no peer could decode them.
func (c *coder) add(key []byte) error {
	if len(key) != c.keyLen {
		return c.keyLenError(len(key))
	}
	if len(c.maps) >= maxSetKeys {
		return fmt.Errorf("iblt: at most %d keys can be added", maxSetKeys)
	}
	off := len(c.keys)
	c.keys = append(c.keys, make([]uint64, c.words)...)
	kw := c.keys[off:]
	loadKey(kw, key)
	h, cs := flow.Hash64Pair(key, c.seed, c.check)
	c.set.reserve(len(c.maps) + 1)
	j, slot := c.set.find(h, kw, c.keys, c.words)
	if j >= 0 {
		c.keys = c.keys[:off]
		return fmt.Errorf("%w: %x was already added (key %d of %d); keys must be distinct", ErrDuplicateKey, key, j, len(c.maps))
	}
	c.set.insert(slot, h, len(c.maps))
	c.checks = append(c.checks, cs)
	c.maps = append(c.maps, mapping{h: h})
	c.advance(len(c.maps)-1, c.n)
	return nil
}

// advance applies key j to every computed symbol before limit that it
// maps to, leaving its mapping at its first index >= limit.
func (c *coder) advance(j, limit int) {
	m := c.maps[j] // a local copy keeps the state in registers
	kw := c.keys[j*c.words : (j+1)*c.words : (j+1)*c.words]
	cs := c.checks[j]
	stride := c.stride
	sym := c.sym
	for m.idx < uint64(limit) {
		s := sym[int(m.idx)*stride : int(m.idx+1)*stride : int(m.idx+1)*stride]
		s[sCount]++
		s[sCheck] ^= cs
		for w, x := range kw {
			s[sKey+w] ^= x
		}
		m.idx = nextIndex(m.idx, flow.Mix(m.h, m.step))
		m.step++
	}
	c.maps[j] = m
}

// extend computes symbols up to n (at least).
//
// A key's walk is a chain of dependent steps (each index comes from the
// previous one through a square root and a division), so extend walks two
// keys side by side, letting the processor overlap the two chains; a lane
// whose key is done takes the next key that has symbols below n. The
// symbols are those of advance applied to every key in turn: only the
// order of the XORs and additions into them differs.
func (c *coder) extend(n int) {
	if n <= c.n {
		return
	}
	n = max(n, 2*c.n, 64)
	c.sym = append(c.sym, make([]uint64, (n-c.n)*c.stride)...)
	c.n = n
	lim := uint64(n)
	next := 0
	ja, jb := c.pending(&next, lim), c.pending(&next, lim)
	if jb < 0 {
		if ja >= 0 {
			c.advance(ja, n)
		}
		return
	}
	stride, sym := c.stride, c.sym
	a, ka, ca := c.maps[ja], c.keyWords(ja), c.checks[ja]
	b, kb, cb := c.maps[jb], c.keyWords(jb), c.checks[jb]
	for {
		if a.idx >= lim {
			c.maps[ja] = a
			if ja = c.pending(&next, lim); ja < 0 {
				c.maps[jb] = b
				c.advance(jb, n)
				return
			}
			a, ka, ca = c.maps[ja], c.keyWords(ja), c.checks[ja]
		}
		if b.idx >= lim {
			c.maps[jb] = b
			if jb = c.pending(&next, lim); jb < 0 {
				c.maps[ja] = a
				c.advance(ja, n)
				return
			}
			b, kb, cb = c.maps[jb], c.keyWords(jb), c.checks[jb]
		}
		s := sym[int(a.idx)*stride : int(a.idx+1)*stride : int(a.idx+1)*stride]
		s[sCount]++
		s[sCheck] ^= ca
		for w, x := range ka {
			s[sKey+w] ^= x
		}
		s = sym[int(b.idx)*stride : int(b.idx+1)*stride : int(b.idx+1)*stride]
		s[sCount]++
		s[sCheck] ^= cb
		for w, x := range kb {
			s[sKey+w] ^= x
		}
		a.idx = nextIndex(a.idx, flow.Mix(a.h, a.step))
		a.step++
		b.idx = nextIndex(b.idx, flow.Mix(b.h, b.step))
		b.step++
	}
}

// pending returns the first key from *next on whose walk is below lim,
// and moves *next past it; -1 when there is none.
func (c *coder) pending(next *int, lim uint64) int {
	for j := *next; j < len(c.maps); j++ {
		if c.maps[j].idx < lim {
			*next = j + 1
			return j
		}
	}
	*next = len(c.maps)
	return -1
}

// keyWords returns the words of key j.
func (c *coder) keyWords(j int) []uint64 {
	return c.keys[j*c.words : (j+1)*c.words : (j+1)*c.words]
}

// Encoder produces the coded symbols of a set, one after another, without
// end. The zero Encoder is not valid; use [NewEncoder]. Not safe for
// concurrent use.
type Encoder struct {
	c    coder
	next int
}

// NewEncoder returns an encoder of keys of keyLen bytes; sender and
// receiver must use the same keyLen and seed.
func NewEncoder(keyLen int, seed uint64) (*Encoder, error) {
	c, err := newCoder(keyLen, seed)
	if err != nil {
		return nil, err
	}
	return &Encoder{c: c}, nil
}

// Add adds a key to the set (an error for a key of the wrong length). Keys
// must be distinct: a key already added is refused with an error wrapping
// [ErrDuplicateKey], and the encoder is left unchanged (two copies would
// cancel in every symbol's key and checksum sums while counting twice, and
// the decoder could never finish). Add compares whole keys, so distinct
// keys are never refused; the check costs a lookup in a table of 16 to 32
// bytes per key. Add the whole set before the first symbol: every symbol
// already sent would lack the key (symbol 0 holds every key), and the
// decoder could never finish. Add returns an error once symbols were
// produced. With the keys pre-allocated by [Encoder.Grow], Add does not
// allocate.
func (e *Encoder) Add(key []byte) error {
	if e.next > 0 {
		return fmt.Errorf("iblt: keys must be added before the first symbol, %d produced", e.next)
	}
	return e.c.add(key)
}

// Grow reserves room for n more keys, so that adding them does not
// allocate.
func (e *Encoder) Grow(n int) { e.c.grow(n) }

// Len returns the number of keys added.
func (e *Encoder) Len() int { return len(e.c.maps) }

// Produced returns the number of symbols produced so far.
func (e *Encoder) Produced() int { return e.next }

// AppendNext appends the next coded symbol (SymbolSize(keyLen) bytes) to b.
func (e *Encoder) AppendNext(b []byte) []byte {
	i := e.next
	e.next++
	e.c.extend(i + 1)
	s := e.c.sym[i*e.c.stride : (i+1)*e.c.stride]
	b = binary.LittleEndian.AppendUint64(b, s[sCount])
	b = binary.LittleEndian.AppendUint64(b, s[sCheck])
	off := len(b)
	b = append(b, make([]byte, e.c.keyLen)...)
	storeKey(b[off:], s[sKey:])
	return b
}

// Decoder recovers the difference between the sender's set and its own
// from the sender's coded symbols, as they arrive. The zero Decoder is not
// valid; use [NewDecoder]. Not safe for concurrent use.
type Decoder struct {
	local  coder
	stride int
	diff   []uint64 // received minus local minus recovered, per symbol
	n      int      // symbols received

	rec       recHeap // recovered keys, by next index
	recKeys   []uint64
	remote    [][]byte
	localOnly [][]byte
	stack     []int
	bad       bool
}

type recKey struct {
	m     mapping
	check uint64
	off   int    // into recKeys
	sign  uint64 // +1: sender only; -1: receiver only
}

type recHeap []recKey

func (h recHeap) Len() int           { return len(h) }
func (h recHeap) Less(i, j int) bool { return h[i].m.idx < h[j].m.idx }
func (h recHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *recHeap) Push(x any)        { *h = append(*h, x.(recKey)) }
func (h *recHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// NewDecoder returns a decoder for keys of keyLen bytes with the sender's
// seed.
func NewDecoder(keyLen int, seed uint64) (*Decoder, error) {
	c, err := newCoder(keyLen, seed)
	if err != nil {
		return nil, err
	}
	return &Decoder{local: c, stride: c.stride}, nil
}

// AddLocal adds a key of the receiver's own set. Add the whole local set
// before the first symbol (AddLocal returns an error after it). Keys must
// be distinct, as for [Encoder.Add]: a key already added is refused with
// an error wrapping [ErrDuplicateKey], and the decoder is left unchanged.
// With the keys pre-allocated by [Decoder.Grow], AddLocal does not
// allocate.
func (d *Decoder) AddLocal(key []byte) error {
	if d.n > 0 {
		return fmt.Errorf("iblt: local keys must be added before the first symbol, %d received", d.n)
	}
	return d.local.add(key)
}

// Grow reserves room for n more local keys, so that adding them does not
// allocate.
func (d *Decoder) Grow(n int) { d.local.grow(n) }

// Received returns the number of symbols received.
func (d *Decoder) Received() int { return d.n }

// Done reports whether the difference is complete: symbol 0, to which
// every key maps, is empty once every differing key is recovered.
func (d *Decoder) Done() bool {
	return d.n > 0 && !d.bad && allZero(d.diff[:d.stride])
}

// Remote returns the keys only the sender has, Local the keys only the
// receiver has, recovered so far. The slices are owned by the decoder.
func (d *Decoder) Remote() [][]byte { return d.remote }

// Local returns the keys only the receiver has, recovered so far.
func (d *Decoder) Local() [][]byte { return d.localOnly }

// AddSymbol takes the next coded symbol of the sender (as appended by
// [Encoder.AppendNext]) and peels what it can. It returns an error for a
// symbol of the wrong size. A corrupt symbol never makes it panic; it may
// keep the decoder from finishing.
func (d *Decoder) AddSymbol(sym []byte) error {
	if len(sym) != SymbolSize(d.local.keyLen) {
		return fmt.Errorf("iblt: coded symbol must be %d bytes, got %d", SymbolSize(d.local.keyLen), len(sym))
	}
	if d.n >= maxIndex-1 {
		return fmt.Errorf("iblt: more than %d coded symbols", maxIndex-1)
	}
	i := d.n
	d.n++
	d.local.extend(d.n)
	d.diff = append(d.diff, make([]uint64, d.stride)...)
	s := d.diff[i*d.stride : (i+1)*d.stride]
	loc := d.local.sym[i*d.stride : (i+1)*d.stride]
	s[sCount] = binary.LittleEndian.Uint64(sym) - loc[sCount]
	s[sCheck] = binary.LittleEndian.Uint64(sym[8:]) ^ loc[sCheck]
	loadKey(s[sKey:], sym[16:])
	for w := range d.local.words {
		s[sKey+w] ^= loc[sKey+w]
	}
	// Recovered keys that map here.
	for len(d.rec) > 0 && d.rec[0].m.idx == uint64(i) {
		r := &d.rec[0]
		d.apply(s, r)
		r.m.next()
		heap.Fix(&d.rec, 0)
	}
	d.stack = append(d.stack, i)
	d.peel()
	return nil
}

// apply removes recovered key r from symbol s.
func (d *Decoder) apply(s []uint64, r *recKey) {
	s[sCount] -= r.sign
	s[sCheck] ^= r.check
	for w, x := range d.recKeys[r.off : r.off+d.local.words] {
		s[sKey+w] ^= x
	}
}

func (d *Decoder) peel() {
	var buf [MaxKeyLen]byte
	key := buf[:d.local.keyLen]
	for len(d.stack) > 0 {
		i := d.stack[len(d.stack)-1]
		d.stack = d.stack[:len(d.stack)-1]
		s := d.diff[i*d.stride : (i+1)*d.stride]
		c := s[sCount]
		if c != 1 && c != ^uint64(0) {
			continue
		}
		// No padding check, unlike Table.List: the wire carries keyLen key
		// bytes, which loadKey zero pads, and local and recovered keys are
		// zero padded too, so the padding of a difference is always zero.
		kw := s[sKey:]
		storeKey(key, kw)
		cs := flow.Hash64(key, d.local.check)
		if cs != s[sCheck] {
			continue
		}
		h := flow.Hash64(key, d.local.seed)
		if !maps(h, uint64(i)) {
			continue
		}
		if len(d.rec) >= d.n {
			d.bad = true // more keys than symbols: the input is corrupt
			return
		}
		off := len(d.recKeys)
		d.recKeys = append(d.recKeys, kw...)
		k := append([]byte(nil), key...)
		if c == 1 {
			d.remote = append(d.remote, k)
		} else {
			d.localOnly = append(d.localOnly, k)
		}
		r := recKey{m: mapping{h: h}, check: cs, off: off, sign: c}
		for r.m.idx < uint64(d.n) {
			j := int(r.m.idx)
			sj := d.diff[j*d.stride : (j+1)*d.stride]
			d.apply(sj, &r)
			if n := sj[sCount]; n == 1 || n == ^uint64(0) {
				d.stack = append(d.stack, j)
			}
			r.m.next()
		}
		heap.Push(&d.rec, r)
	}
}
