package flowradar

import (
	"fmt"
	"math"

	"github.com/dataplane-go/dataplane/flow"
)

// FlowDecode is the first stage of the paper's network-wide decoding
// (NSDI'16 §4.2): it peels every table as [Table.Decode] does, but only
// the flow sets (FlowXOR and FlowCount), and each flow decoded at one
// switch is also removed from every other table whose flow filter holds it
// (the switches on its path), which can make new pure cells there. It runs
// to a fixed point and returns, per table, the flows found in it, and per
// table the number of cells still holding flows.
//
// A flow is removed from another switch only if its filter holds the flow
// and each of the flow's cells there still holds a flow; a filter false
// positive that passes both tests removes a flow the switch never saw, and
// usually shows up as cells left stuck or as a [CounterDecode] residual.
// Size filters so that the expected number of false positives, flows times
// switches times [Params.FilterFPR], stays well below one.
//
// The error wraps [ErrParams] for a nil table, [ErrCorrupt] when a table
// contradicts itself, and [ErrDecodeIncomplete] when cells are left stuck
// (the flows found so far are returned with it).
func FlowDecode(tables []*Table) (flows [][]flow.Key, stuck []int, err error) {
	for j, t := range tables {
		if t == nil {
			return nil, nil, fmt.Errorf("%w: table %d is nil", ErrParams, j)
		}
	}
	type item struct{ sw, cell uint32 }
	w := make([]*Table, len(tables))
	have := make([]map[flow.Key]struct{}, len(tables))
	flows = make([][]flow.Key, len(tables))
	var q []item
	for j, t := range tables {
		w[j] = t.Clone()
		have[j] = make(map[flow.Key]struct{})
		for i := range w[j].cells {
			if w[j].cells[i].FlowCount == 1 {
				q = append(q, item{uint32(j), uint32(i)})
			}
		}
	}
	// remove takes k out of table j's FlowXOR and FlowCount.
	remove := func(j int, k *flow.Key, idx *[MaxHashes]uint32) {
		p := padded(k)
		for s := 0; s < w[j].p.Hashes; s++ {
			c := &w[j].cells[idx[s]]
			c.FlowCount--
			c.xorInto(&p)
			if c.FlowCount == 1 {
				q = append(q, item{uint32(j), idx[s]})
			}
		}
		have[j][*k] = struct{}{}
		flows[j] = append(flows[j], *k)
	}
	var idx, oidx [MaxHashes]uint32
	for len(q) > 0 {
		it := q[len(q)-1]
		q = q[:len(q)-1]
		j := int(it.sw)
		k, ok := w[j].pure(it.cell, &idx)
		if !ok {
			continue
		}
		if _, dup := have[j][k]; dup {
			return flows, nil, fmt.Errorf("%w: table %d: flow %v decoded twice", ErrCorrupt, j, k)
		}
		for s := 0; s < w[j].p.Hashes; s++ {
			if w[j].cells[idx[s]].FlowCount == 0 {
				return flows, nil, fmt.Errorf("%w: table %d: flow %v removed from cell %d, which holds no flow", ErrCorrupt, j, k, idx[s])
			}
		}
		remove(j, &k, &idx)
		for o := range w {
			if o == j {
				continue
			}
			if _, ok := have[o][k]; ok || !w[o].Contains(&k) {
				continue
			}
			n := w[o].CellsOf(&k, &oidx)
			fits := true
			for s := 0; s < n; s++ {
				fits = fits && w[o].cells[oidx[s]].FlowCount > 0
			}
			if fits {
				remove(o, &k, &oidx)
			}
		}
	}
	stuck = make([]int, len(w))
	total := 0
	for j := range w {
		for i := range w[j].cells {
			if w[j].cells[i].FlowCount != 0 {
				stuck[j]++
			}
		}
		total += stuck[j]
	}
	if total > 0 {
		return flows, stuck, fmt.Errorf("%w: %d cells in %d tables still hold flows", ErrDecodeIncomplete, total, len(w))
	}
	return flows, stuck, nil
}

// Counters is the result of [CounterDecode]: per flow, in the order of
// the keys given, its packet and byte counts at the switch.
type Counters struct {
	Packets []int64
	Bytes   []int64
	// Exact[i] is true when flow i's counts are determined by the
	// system: found by peeling, or by an integer solution with zero
	// residual of a part of the system no other flow shares all cells
	// with. Otherwise the counts are a least-squares estimate.
	Exact []bool
	// Residual is the sum over cells of |PacketCount - Σ packets of the
	// cell's flows| for the returned counts: 0 when the switch's counters
	// agree with the flow set.
	Residual int64
	// Mismatch counts cells whose FlowCount differs from the number of
	// the given flows hashed there (the flow set is not the table's).
	Mismatch int
}

// CounterDecode is the second stage of network-wide decoding (NSDI'16
// §4.2): given the flows at a switch, each cell's PacketCount (and
// ByteCount) is the sum of the counts of the flows hashed to it, a linear
// system with more equations (cells) than unknowns (flows). It solves it
// exactly by peeling (a cell with one unknown flow determines it) and the
// rest, the part where every cell holds two or more unknown flows, by
// least squares (CGLS, conjugate gradients on the normal equations), then
// rounds to integers and checks the residual exactly. keys must be
// distinct and valid.
func CounterDecode(t *Table, keys []flow.Key) (Counters, error) {
	if t == nil {
		return Counters{}, fmt.Errorf("%w: table is nil", ErrParams)
	}
	n, k, m := len(keys), t.p.Hashes, len(t.cells)
	fc := make([]uint32, n*k) // cells of flow f: fc[f*k : f*k+k]
	cnt := make([]int32, m+1) // flows per cell, then CSR offsets
	var idx [MaxHashes]uint32
	seen := make(map[flow.Key]struct{}, n)
	for f := range keys {
		if !keys[f].IsValid() {
			return Counters{}, fmt.Errorf("%w: counter decode: key %d is not valid", ErrParams, f)
		}
		if _, dup := seen[keys[f]]; dup {
			return Counters{}, fmt.Errorf("%w: counter decode: key %v given twice", ErrParams, keys[f])
		}
		seen[keys[f]] = struct{}{}
		t.CellsOf(&keys[f], &idx)
		copy(fc[f*k:], idx[:k])
		for s := 0; s < k; s++ {
			cnt[idx[s]+1]++
		}
	}
	var r Counters
	for c := 0; c < m; c++ {
		if uint32(cnt[c+1]) != t.cells[c].FlowCount {
			r.Mismatch++
		}
	}
	off := make([]int32, m+1)
	for c := 0; c < m; c++ {
		off[c+1] = off[c] + cnt[c+1]
	}
	cf := make([]int32, n*k) // flows of cell c: cf[off[c]:off[c+1]]
	fill := append([]int32(nil), off[:m]...)
	for f := 0; f < n; f++ {
		for s := 0; s < k; s++ {
			c := fc[f*k+s]
			cf[fill[c]] = int32(f)
			fill[c]++
		}
	}
	unknown := make([]int32, m)
	resP := make([]int64, m)
	resB := make([]int64, m)
	for c := 0; c < m; c++ {
		unknown[c] = off[c+1] - off[c]
		resP[c] = int64(t.cells[c].PacketCount)
		resB[c] = int64(t.cells[c].ByteCount)
	}
	r.Packets = make([]int64, n)
	r.Bytes = make([]int64, n)
	r.Exact = make([]bool, n)
	known := make([]bool, n)
	setKnown := func(f int, p, b int64) []uint32 {
		known[f] = true
		r.Packets[f], r.Bytes[f] = p, b
		return fc[f*k : f*k+k]
	}
	var stack []int32
	for c := 0; c < m; c++ {
		if unknown[c] == 1 {
			stack = append(stack, int32(c))
		}
	}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if unknown[c] != 1 {
			continue
		}
		f := int32(-1)
		for _, g := range cf[off[c]:off[c+1]] {
			if !known[g] {
				f = g
				break
			}
		}
		p, b := resP[c], resB[c]
		r.Exact[f] = true
		for _, o := range setKnown(int(f), p, b) {
			resP[o] -= p
			resB[o] -= b
			unknown[o]--
			if unknown[o] == 1 {
				stack = append(stack, int32(o))
			}
		}
	}
	// The core: flows all of whose cells hold another unknown flow.
	var core []int32
	for f := 0; f < n; f++ {
		if !known[f] {
			core = append(core, int32(f))
		}
	}
	if len(core) > 0 {
		xp := cgls(core, fc, k, resP, m)
		xb := cgls(core, fc, k, resB, m)
		// Flows sharing all their cells with another flow are never
		// determined, whatever the numbers.
		twin := make(map[[MaxHashes]uint32]int, len(core))
		for _, f := range core {
			var key [MaxHashes]uint32
			copy(key[:], fc[int(f)*k:int(f)*k+k])
			twin[key]++
		}
		rp := append([]int64(nil), resP...)
		rb := append([]int64(nil), resB...)
		for i, f := range core {
			p, b := int64(math.Round(xp[i])), int64(math.Round(xb[i]))
			for _, o := range setKnown(int(f), p, b) {
				rp[o] -= p
				rb[o] -= b
			}
		}
		exact := true
		for c := 0; c < m; c++ {
			exact = exact && rp[c] == 0 && rb[c] == 0
		}
		for _, f := range core {
			var key [MaxHashes]uint32
			copy(key[:], fc[int(f)*k:int(f)*k+k])
			r.Exact[f] = exact && twin[key] == 1
		}
		resP = rp
	}
	for c := 0; c < m; c++ {
		if resP[c] < 0 {
			r.Residual -= resP[c]
		} else {
			r.Residual += resP[c]
		}
	}
	return r, nil
}

// cgls returns the least-squares solution x of A x = b, where column i of
// A is flow core[i] with ones at its k cells, by conjugate gradients on the
// normal equations (CGLS), starting from zero (so the minimum-norm
// solution when A is rank deficient). Every few iterations it rounds x and
// stops early when the rounded x solves the system exactly, the common
// case for counters that agree with the flow set.
func cgls(core []int32, fc []uint32, k int, b []int64, m int) []float64 {
	n := len(core)
	x := make([]float64, n)
	res := make([]float64, m)
	for c := range res {
		res[c] = float64(b[c])
	}
	s := make([]float64, n)
	at := func(v []float64, out []float64) { // out = A^T v
		for i, f := range core {
			var sum float64
			for _, c := range fc[int(f)*k : int(f)*k+k] {
				sum += v[c]
			}
			out[i] = sum
		}
	}
	// The rows that matter: cells of core flows.
	var rows []uint32
	mark := make([]bool, m)
	for _, f := range core {
		for _, c := range fc[int(f)*k : int(f)*k+k] {
			if !mark[c] {
				mark[c] = true
				rows = append(rows, c)
			}
		}
	}
	ri := make([]int64, m)
	integral := func() bool {
		for _, c := range rows {
			ri[c] = b[c]
		}
		for i, f := range core {
			v := int64(math.Round(x[i]))
			for _, c := range fc[int(f)*k : int(f)*k+k] {
				ri[c] -= v
			}
		}
		for _, c := range rows {
			if ri[c] != 0 {
				return false
			}
		}
		return true
	}
	q := make([]float64, m)
	at(res, s)
	p := append([]float64(nil), s...)
	gamma := dot(s, s)
	tol := 1e-24 * gamma
	for it := 1; it <= min(2*n+100, 1000) && gamma > tol; it++ {
		for _, c := range rows {
			q[c] = 0
		}
		for i, f := range core { // q = A p
			for _, c := range fc[int(f)*k : int(f)*k+k] {
				q[c] += p[i]
			}
		}
		var qq float64
		for _, c := range rows {
			qq += q[c] * q[c]
		}
		if qq == 0 {
			break
		}
		alpha := gamma / qq
		for i := range x {
			x[i] += alpha * p[i]
		}
		for _, c := range rows {
			res[c] -= alpha * q[c]
		}
		if it%8 == 0 && integral() {
			break
		}
		at(res, s)
		g := dot(s, s)
		beta := g / gamma
		gamma = g
		for i := range p {
			p[i] = s[i] + beta*p[i]
		}
	}
	return x
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// Count is a flow's counters at one switch.
type Count struct {
	Switch  int
	Packets int64
	Bytes   int64
	Exact   bool // see [Counters.Exact]
}

// FlowReport is one flow of a network-wide decode with its counters at
// every switch whose table holds it, in switch order.
type FlowReport struct {
	Key    flow.Key
	Counts []Count
}

// Loss returns the largest minus the smallest packet count of the flow
// across its switches: 0 when they agree, otherwise packets lost between
// them (in a lossless network every switch on a path counts every packet).
func (f *FlowReport) Loss() int64 {
	if len(f.Counts) == 0 {
		return 0
	}
	lo, hi := f.Counts[0].Packets, f.Counts[0].Packets
	for _, c := range f.Counts[1:] {
		lo, hi = min(lo, c.Packets), max(hi, c.Packets)
	}
	return hi - lo
}

// Network is the result of [DecodeNetwork].
type Network struct {
	Flows    []FlowReport // every flow decoded anywhere, in decoding order
	Stuck    []int        // per switch, cells FlowDecode left holding flows
	Residual []int64      // per switch, see [Counters.Residual]
	Mismatch []int        // per switch, see [Counters.Mismatch]
}

// DecodeNetwork decodes the tables of many switches for one epoch:
// [FlowDecode] across all of them, then [CounterDecode] at each switch,
// and reports every flow with its counters per switch, so that
// inconsistencies between the switches of a path ([FlowReport.Loss])
// show where packets were lost. Errors are those of FlowDecode; on
// [ErrDecodeIncomplete] the result still holds every flow found.
func DecodeNetwork(tables []*Table) (Network, error) {
	sets, stuck, err := FlowDecode(tables)
	if err != nil && stuck == nil {
		return Network{}, err
	}
	nw := Network{Stuck: stuck, Residual: make([]int64, len(tables)), Mismatch: make([]int, len(tables))}
	pos := make(map[flow.Key]int)
	for j, keys := range sets {
		cs, cerr := CounterDecode(tables[j], keys)
		if cerr != nil {
			return nw, cerr
		}
		nw.Residual[j], nw.Mismatch[j] = cs.Residual, cs.Mismatch
		for i, k := range keys {
			p, ok := pos[k]
			if !ok {
				p = len(nw.Flows)
				pos[k] = p
				nw.Flows = append(nw.Flows, FlowReport{Key: k})
			}
			nw.Flows[p].Counts = append(nw.Flows[p].Counts, Count{Switch: j, Packets: cs.Packets[i], Bytes: cs.Bytes[i], Exact: cs.Exact[i]})
		}
	}
	return nw, err
}
