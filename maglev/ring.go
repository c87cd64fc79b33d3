package maglev

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/dataplane-go/dataplane/flow"
)

// DefaultVirtualNodes is the number of points per unit of weight when
// RingParams.VirtualNodes is zero (nginx's and ketama's 160).
const DefaultVirtualNodes = 160

// MaxRingPoints bounds the total number of points of a Ring (weights times
// virtual nodes), 16 Mi points, 192 MiB.
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
// A Ring is immutable once built and safe for concurrent use; the zero
// value is an empty ring whose Pick reports false. For bounded loads, see
// [Bounded].
type Ring struct {
	backends []Backend
	vnodes   int
	seed     uint64
	points   []uint64 // sorted
	owners   []uint32 // owners[i] owns points[i]
	// bucket[b] is the first point whose top `shift`-complement bits are >= b:
	// a lookup searches only points[bucket[b]:bucket[b+1]+1].
	bucket []uint32
	shift  uint
}

// NewRing builds a ring of the given backends (any order; weight 0 places
// no point).
func NewRing(p RingParams, backends []Backend) (*Ring, error) {
	v := p.VirtualNodes
	if v == 0 {
		v = DefaultVirtualNodes
	}
	if v < 0 || v > MaxRingPoints {
		return nil, fmt.Errorf("maglev: virtual nodes must be in [1, %d], got %d", MaxRingPoints, p.VirtualNodes)
	}
	bs, err := checkBackends(backends)
	if err != nil {
		return nil, err
	}
	total := uint64(0)
	for _, b := range bs {
		total += uint64(b.Weight) * uint64(v)
	}
	if total > MaxRingPoints {
		return nil, fmt.Errorf("maglev: ring would hold %d points (weights times virtual nodes), at most %d accepted", total, MaxRingPoints)
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
		if a.h != b.h {
			if a.h < b.h {
				return -1
			}
			return 1
		}
		return int(a.o) - int(b.o)
	})
	r.points = make([]uint64, len(pts))
	r.owners = make([]uint32, len(pts))
	for i, q := range pts {
		r.points[i], r.owners[i] = q.h, q.o
	}
	r.buildIndex()
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

// buildIndex builds the bucket array: 2^b buckets for about one point each.
func (r *Ring) buildIndex() {
	n := len(r.points)
	if n == 0 {
		return
	}
	b := bits.Len(uint(n)) // 2^b > n
	if b > 20 {
		b = 20
	}
	r.shift = uint(64 - b)
	nb := 1 << b
	r.bucket = make([]uint32, nb+1)
	j := 0
	for k := 0; k <= nb; k++ {
		for j < n && r.points[j]>>r.shift < uint64(k) {
			j++
		}
		r.bucket[k] = uint32(j)
	}
}

// successor returns the position of the first point >= h (len(points) when
// h is above every point).
func (r *Ring) successor(h uint64) int {
	k := h >> r.shift
	lo, hi := int(r.bucket[k]), int(r.bucket[k+1])
	// Points in [lo, hi) share h's bucket; the answer is in [lo, hi].
	pts := r.points
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if pts[mid] < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// Pick returns the index in [Ring.Backends] of the owner of the first point
// at or after h. ok is false for an empty ring. Pick never allocates.
func (r *Ring) Pick(h uint64) (i int, ok bool) {
	if len(r.points) == 0 {
		return -1, false
	}
	j := r.successor(h)
	if j == len(r.points) {
		j = 0
	}
	return int(r.owners[j]), true
}

// Len returns the number of backends, weight 0 included.
func (r *Ring) Len() int { return len(r.backends) }

// Points returns the number of points on the ring.
func (r *Ring) Points() int { return len(r.points) }

// Backend returns the i-th backend (sorted by name).
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
// ceil((1+epsilon) * m * w / W); a flow whose first backend is full walks
// the ring clockwise to the next backend that is not. No backend ever
// carries more than its bound, and the bound only moves flows that would
// overload a backend.
//
// A Bounded is stateful (it counts the flows of each backend) and not safe
// for concurrent use. Its zero value is not valid; use [NewBounded].
type Bounded struct {
	r     *Ring
	eps   float64
	loads []uint64
	total uint64
	wsum  uint64
}

// NewBounded returns a bounded-load assigner over r; epsilon is the allowed
// excess over the mean load, in (0, 16].
func NewBounded(r *Ring, epsilon float64) (*Bounded, error) {
	if !(epsilon > 0 && epsilon <= 16) {
		return nil, fmt.Errorf("maglev: bounded-load epsilon must be in (0, 16], got %v", epsilon)
	}
	b := &Bounded{r: r, eps: epsilon, loads: make([]uint64, len(r.backends))}
	for _, be := range r.backends {
		b.wsum += uint64(be.Weight)
	}
	return b, nil
}

// capacity returns backend i's bound with m flows assigned.
func (b *Bounded) capacity(i int, m uint64) uint64 {
	c := (1 + b.eps) * float64(m) * float64(b.r.backends[i].Weight) / float64(b.wsum)
	u := uint64(c)
	if float64(u) < c {
		u++
	}
	return u
}

// Assign picks the backend for a new flow of hash h and counts it; release
// it with [Bounded.Release] when the flow ends. ok is false for an empty
// ring. Assign never allocates.
func (b *Bounded) Assign(h uint64) (i int, ok bool) {
	r := b.r
	n := len(r.points)
	if n == 0 {
		return -1, false
	}
	m := b.total + 1
	j := r.successor(h)
	for step := 0; step < n; step++ {
		if j == n {
			j = 0
		}
		o := int(r.owners[j])
		if b.loads[o] < b.capacity(o, m) {
			b.loads[o]++
			b.total++
			return o, true
		}
		j++
	}
	// Unreachable: the capacities sum to more than m. Kept so a float
	// rounding surprise degrades to plain consistent hashing.
	o := int(r.owners[r.successor(h)%n])
	b.loads[o]++
	b.total++
	return o, true
}

// Release forgets one flow of backend i.
func (b *Bounded) Release(i int) {
	if i >= 0 && i < len(b.loads) && b.loads[i] > 0 {
		b.loads[i]--
		b.total--
	}
}

// Load returns the number of flows backend i carries.
func (b *Bounded) Load(i int) uint64 { return b.loads[i] }

// Loads appends the load of every backend to dst.
func (b *Bounded) Loads(dst []uint64) []uint64 { return append(dst, b.loads...) }
