package maglev

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/dataplane-go/dataplane/flow"
)

// DefaultVirtualNodes is the number of points per unit of weight when
// RingParams.VirtualNodes is zero (nginx's and ketama's 160).
const DefaultVirtualNodes = 160

// MaxRingPoints bounds the total number of points of a Ring (weights times
// virtual nodes), 16 Mi points, at most 256 MiB of index.
const MaxRingPoints = 1 << 24

// RingParams configure a [Ring].
type RingParams struct {
	// VirtualNodes is the number of points a backend of weight 1 places on
	// the ring; a backend of weight w places w*VirtualNodes. Zero means
	// DefaultVirtualNodes.
	VirtualNodes int
	// Seed keys the hash of the points.
	Seed uint64
}

// Ring is ring consistent hashing with virtual nodes (Karger et al., STOC
// 1997): every backend places points on a 64-bit circle at
// xxHash64(name || vnode as 4 little-endian bytes, seed), and a flow goes to
// the owner of the first point at or after its hash, wrapping around.
// Removing a backend moves only the flows it owned; adding one moves only
// the flows it takes.
//
// Lookup reads one entry of a bucket array (the first point of the hash's
// top bits) and then, usually, one key that packs a point's top 41 bits
// with its owner: two cache lines. The index takes 12
// bytes per point plus 4 to 8 for the buckets: 3.0 MB at N = 1000 backends
// with 160 virtual nodes.
//
// A Ring is immutable once built and safe for concurrent use; the zero
// value is an empty ring whose Pick reports false. For bounded loads, see
// [Bounded].
type Ring struct {
	backends []Backend
	vnodes   int
	seed     uint64
	// The index (see buildIndex): keys[j] is the j-th smallest point with
	// its low ownerBits bits replaced by the index of its owner, followed
	// by a sentinel; low[j] holds the replaced bits; bucket[b] is the
	// first point whose top bits (h >> shift) are at least b.
	keys   []uint64
	low    []uint32
	bucket []uint32
	shift  uint
}

// Ring index layout. A point's owner fits in the ownerBits low bits of its
// key because a ring has at most MaxSize backends.
const (
	ownerBits = 23
	ownerMask = 1<<ownerBits - 1
)

var _ [1<<ownerBits - MaxSize]struct{} // MaxSize < 2^ownerBits

// NewRing builds a ring of the given backends (any order; weight 0 places
// no point).
func NewRing(p RingParams, backends []Backend) (*Ring, error) {
	v := p.VirtualNodes
	if v == 0 {
		v = DefaultVirtualNodes
	}
	if v < 0 || v > MaxRingPoints {
		return nil, fmt.Errorf("maglev: virtual nodes must be in [1, %d], or 0 for the default %d, got %d", MaxRingPoints, DefaultVirtualNodes, p.VirtualNodes)
	}
	bs, err := checkBackends(backends)
	if err != nil {
		return nil, err
	}
	// Each product is below 2^32 * 2^24 and the sum stops at the first
	// excess, so it cannot wrap (a wrapped total would pass the check and
	// place 2^56 points).
	total := uint64(0)
	for _, b := range bs {
		if total += uint64(b.Weight) * uint64(v); total > MaxRingPoints {
			return nil, fmt.Errorf("maglev: ring would hold at least %d points (weights times virtual nodes), at most %d accepted", total, MaxRingPoints)
		}
	}
	r := &Ring{backends: bs, vnodes: v, seed: p.Seed}
	type pt struct {
		h uint64
		o uint32
	}
	pts := make([]pt, 0, total)
	var buf []byte
	for i, b := range bs {
		buf = append(buf[:0], b.Name...)
		buf = append(buf, 0, 0, 0, 0)
		n := int(b.Weight) * v
		for k := 0; k < n; k++ {
			binary.LittleEndian.PutUint32(buf[len(b.Name):], uint32(k))
			pts = append(pts, pt{flow.Hash64(buf, p.Seed), uint32(i)})
		}
	}
	slices.SortFunc(pts, func(a, b pt) int {
		return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.o, b.o))
	})
	r.buildIndex(len(pts), func(j int) (uint64, uint32) { return pts[j].h, pts[j].o })
	return r, nil
}

// MustNewRing is NewRing that panics on error.
func MustNewRing(p RingParams, backends []Backend) *Ring {
	r, err := NewRing(p, backends)
	if err != nil {
		panic(err)
	}
	return r
}

// buildIndex builds the lookup index of the n sorted points, point(j)
// giving the j-th point and its owner (ties in owner order).
//
// A lookup must find the first point at or after h. It reads one bucket
// entry, bucket[h >> shift], which is at most that point's position (2^b
// buckets, 2^b the power of two above n, so half a point to one point per
// bucket), and from there steps over the keys below hm, h with its low
// ownerBits bits cleared: keys[j] < hm exactly when the top 64-ownerBits
// bits of point j are below those of h, whatever the owner bits. At
// N = 1000 x 160 points, 75% of lookups take no step (the mean is 0.3),
// so the first key read is usually the answer. Only when its top bits
// equal h's (a chance of about 2^-41 per point) do the low bits decide,
// from low. The sentinel after the last key compares above every hm, so
// the scan stops there, and carries the owner of the first point, where a
// hash above every point wraps around to.
func (r *Ring) buildIndex(n int, point func(j int) (uint64, uint32)) {
	if n == 0 {
		return
	}
	r.keys = make([]uint64, n+1)
	r.low = make([]uint32, n)
	for j := 0; j < n; j++ {
		p, o := point(j)
		r.keys[j] = p&^ownerMask | uint64(o)
		r.low[j] = uint32(p & ownerMask)
	}
	_, o0 := point(0)
	r.keys[n] = ^uint64(ownerMask) | uint64(o0)
	b := min(bits.Len(uint(n)), 24) // n < 2^b, but at most 2^24 buckets
	r.shift = uint(64 - b)
	r.bucket = make([]uint32, 1<<b)
	j := 0
	for k := range r.bucket {
		for j < n {
			if p, _ := point(j); p>>r.shift >= uint64(k) {
				break
			}
			j++
		}
		r.bucket[k] = uint32(j)
	}
}

// successor returns the position of the first point >= h, or n (the
// number of points) when h is above every point; keys[n] then holds the
// owner of point 0. The ring must not be empty.
func (r *Ring) successor(h uint64) int {
	j := int(r.bucket[h>>r.shift])
	for r.keys[j] < h&^ownerMask {
		j++
	}
	// keys[j] is the first key at or above h's top bits. Equal top bits
	// (or the sentinel, when h's top bits are all ones) leave the order to
	// the low bits.
	if r.keys[j]^h <= ownerMask {
		j = r.tie(j, h)
	}
	return j
}

// tie returns the first point at or after position j that is at least h,
// for a j whose key has the top bits of h.
func (r *Ring) tie(j int, h uint64) int {
	for j < len(r.low) && r.keys[j]^h <= ownerMask && r.low[j] < uint32(h&ownerMask) {
		j++
	}
	return j
}

// Pick returns the index in [Ring.Backends] of the owner of the first point
// at or after h. ok is false for an empty ring. Pick never allocates.
func (r *Ring) Pick(h uint64) (i int, ok bool) {
	if len(r.keys) == 0 {
		return -1, false
	}
	return int(r.keys[r.successor(h)] & ownerMask), true
}

// Len returns the number of backends, weight 0 included.
func (r *Ring) Len() int { return len(r.backends) }

// Points returns the number of points on the ring.
func (r *Ring) Points() int { return len(r.low) }

// Backend returns the i-th backend (sorted by name). It panics when i is
// out of range [0, Len()), like a slice index: the zero Ring has no
// backend.
func (r *Ring) Backend(i int) Backend { return r.backends[i] }

// Index returns the index of the backend called name, or -1.
func (r *Ring) Index(name string) int {
	i, ok := slices.BinarySearchFunc(r.backends, name, func(b Backend, n string) int { return strings.Compare(b.Name, n) })
	if !ok {
		return -1
	}
	return i
}

// Backends returns a copy of the backends, sorted by name.
func (r *Ring) Backends() []Backend { return slices.Clone(r.backends) }

// Update returns a new ring with the same parameters and other backends.
func (r *Ring) Update(backends []Backend) (*Ring, error) {
	return NewRing(RingParams{VirtualNodes: r.vnodes, Seed: r.seed}, backends)
}

// Bounded assigns flows to the backends of a [Ring] with bounded loads
// (Mirrokni, Thorup and Zadimoghaddam, "Consistent hashing with bounded
// loads", SODA 2018): with m flows assigned, including the new one, a
// backend of weight w accepts a flow only while its load is below
// ceil((1+epsilon) * m * w / W) (a product within floating-point rounding
// of an integer counts as that integer, so epsilon = 0.03 bounds as the
// decimal 0.03 does); a flow whose first backend is full walks
// the ring clockwise to the next backend that is not. No backend is given
// a flow beyond its bound, and the bound only moves flows that would
// overload a backend. Release lowers m but moves no flow: after releases a
// backend can carry more than the bound for the smaller m until its own
// flows end.
//
// A Bounded is stateful (it counts the flows of each backend) and not safe
// for concurrent use. Its zero value is not valid; use [NewBounded]. It
// is harmless: like a Bounded over the empty ring, it assigns no flow
// (Assign reports false) and every Load is 0.
type Bounded struct {
	r     *Ring
	eps   float64
	loads []uint64
	total uint64
	wsum  uint64
}

// NewBounded returns a bounded-load assigner over r; epsilon is the allowed
// excess over the mean load, in (0, 16]. A nil r counts as the zero Ring,
// which has no backend.
func NewBounded(r *Ring, epsilon float64) (*Bounded, error) {
	if !(epsilon > 0 && epsilon <= 16) {
		return nil, fmt.Errorf("maglev: bounded-load epsilon must be in (0, 16], got %v", epsilon)
	}
	if r == nil {
		r = &Ring{}
	}
	b := &Bounded{r: r, eps: epsilon, loads: make([]uint64, len(r.backends))}
	for _, be := range r.backends {
		b.wsum += uint64(be.Weight)
	}
	return b, nil
}

// capacity returns backend i's bound with m flows assigned,
// ceil((1+eps) * m * w / W). The product is computed in floating point,
// whose roundings can leave a bound that is an integer a few units in the
// last place above it (1.03 * 140 * 5/7 = 103 computes as
// 103.00000000000001), and the ceiling would then allow one flow more
// than the bound. A result that close to an integer is taken as that
// integer: never above the exact bound, and the bound of the decimal
// epsilon the caller wrote.
func (b *Bounded) capacity(i int, m uint64) uint64 {
	c := (1 + b.eps) * float64(m) * float64(b.r.backends[i].Weight) / float64(b.wsum)
	if n := math.Round(c); math.Abs(c-n) <= c*0x1p-50 {
		return uint64(n)
	}
	return uint64(math.Ceil(c))
}

// Assign picks the backend for a new flow of hash h and counts it; release
// it with [Bounded.Release] when the flow ends. ok is false for an empty
// ring. Assign never allocates.
func (b *Bounded) Assign(h uint64) (i int, ok bool) {
	r := b.r
	if r == nil || len(r.low) == 0 {
		return -1, false // the zero Bounded, or an empty ring
	}
	n := len(r.low)
	m := b.total + 1
	j := r.successor(h)
	for step := 0; step < n; step++ {
		if j == n {
			j = 0
		}
		o := int(r.keys[j] & ownerMask)
		if b.loads[o] < b.capacity(o, m) {
			b.loads[o]++
			b.total++
			return o, true
		}
		j++
	}
	// Unreachable: the capacities sum to more than m. Kept so a float
	// rounding surprise degrades to plain consistent hashing.
	o := int(r.keys[r.successor(h)] & ownerMask)
	b.loads[o]++
	b.total++
	return o, true
}

// Release forgets one flow of backend i. It does nothing when backend i
// carries no flow or i is not a backend's index, so a stray Release
// cannot lower the bound of the others.
func (b *Bounded) Release(i int) {
	if i >= 0 && i < len(b.loads) && b.loads[i] > 0 {
		b.loads[i]--
		b.total--
	}
}

// Load returns the number of flows backend i carries: 0 for an i that is
// not a backend's index, as [Bounded.Release] of one does nothing.
func (b *Bounded) Load(i int) uint64 {
	if i < 0 || i >= len(b.loads) {
		return 0
	}
	return b.loads[i]
}

// Loads appends the load of every backend to dst.
func (b *Bounded) Loads(dst []uint64) []uint64 { return append(dst, b.loads...) }
