package flowradar

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

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
// What is an error and what is not. A table contradicts itself, and the
// error wraps [ErrCorrupt], when a flow decoded from one of its own pure
// cells must be removed from a cell that holds no flow and that no flow
// from another switch emptied (unless a flow decoded elsewhere was
// removed from that pure cell and no other switch has the key: see
// below), when it decodes a flow twice, or when, after the fixed point, a
// cell holds no flow but something else: a cell
// with FlowCount 0 in the table itself and a non-zero FlowXOR,
// PacketCount or ByteCount (the packets of a flow that the switch's
// filter took for known, as [Table.Decode] reports it, or damage), or a
// cell emptied by the switch's own flows with a FlowXOR left. A cell
// emptied with the help of a flow decoded at another switch is not an
// error whatever it holds: a filter false positive at the collector (a
// flow removed from a switch that never saw it) leaves exactly that in a
// healthy network, and [CounterDecode] then reports the flow's cells there
// as [Counters.Mismatch]; a flow of that switch whose cell such a removal
// emptied is left in the switch's remaining cells. Such a removal can also
// leave a cell holding one well-formed key that is no flow (the XOR of
// the cell's flows and the phantom), which passes the purity test by
// chance. Where one of its other cells holds no flow, and no other
// switch has the key, it is left in its cell; a key another switch has,
// decoded or lent before or after, is a flow, and its empty cell is
// reported then, whichever switch was peeled first. The damage that looks
// like a phantom is therefore not reported as ErrCorrupt: a flow that no
// other switch decodes (one whose path is that switch alone, for one),
// with a cell wiped (FlowCount and FlowXOR zeroed), found alone in a cell
// from which a flow decoded elsewhere was removed; it is left in that
// cell, and the error wraps only ErrDecodeIncomplete (decoding that switch
// alone can report it). Where nothing contradicts a phantom, it is listed
// as a flow of that switch and taken out of its other cells as the
// switch's own flows are: what that leaves there (a FlowXOR in a cell it
// empties, or a cell it empties under a flow of the switch, met when that
// flow is decoded) can be reported as ErrCorrupt, as damage would be, in a
// healthy network. A phantom takes two false positives of one filter (the
// lent flow and the phantom key) and the phantom hashing to that cell:
// rare with filters sized by [ParamsFor]. The error wraps
// [ErrDecodeIncomplete] when cells are left holding flows, and both
// sentinels when both apply; with either, the flows found and stuck are
// returned. It wraps [ErrParams] for a nil or zero table, with nothing
// else returned; the other [ErrCorrupt] cases (an own flow removed from an
// empty cell, a flow decoded twice) stop at once (for a key left as a
// possible phantom, when another switch has it) and return no stuck.
func FlowDecode(tables []*Table) (flows [][]flow.Key, stuck []int, err error) {
	flows, stuck, halt, err := flowDecode(tables)
	if halt != nil {
		return flows, nil, halt
	}
	return flows, stuck, err
}

// flowDecode is [FlowDecode], except when decoding stops at once on a
// contradiction: then halt is that error, err is nil, and stuck still
// counts, per table, the cells holding flows at the point of the stop
// (there is no residue check: the fixed point was not reached).
func flowDecode(tables []*Table) (flows [][]flow.Key, stuck []int, halt, err error) {
	for j, t := range tables {
		if !t.valid() {
			return nil, nil, nil, errZero(fmt.Sprintf("table %d", j))
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
		for i := range w[j].cnt {
			if w[j].cnt[i].FlowCount == 1 {
				q = append(q, item{uint32(j), uint32(i)})
			}
		}
	}
	// borrowed[j][i]: a flow decoded at another switch was removed from
	// cell i of table j (its filter holds the flow, which may be a false
	// positive).
	borrowed := make([][]bool, len(tables))
	// excused[k]: the contradiction key k met in a borrowed pure cell,
	// left unreported while k may be a phantom (see below). Once another
	// switch has k, k is a flow and the contradiction stands, whichever
	// switch was peeled first.
	excused := make(map[flow.Key]error)
	// remove takes k out of table j's FlowXOR and FlowCount.
	remove := func(j int, k *flow.Key, idx *[MaxHashes]uint32, lent bool) {
		p := k.Padded()
		for s := 0; s < w[j].p.Hashes; s++ {
			c := &w[j].cnt[idx[s]]
			if lent {
				if borrowed[j] == nil {
					borrowed[j] = make([]bool, len(w[j].cnt))
				}
				borrowed[j][idx[s]] = true
			}
			c.FlowCount--
			xorKey(&w[j].xor[idx[s]], &p)
			if c.FlowCount == 1 {
				q = append(q, item{uint32(j), idx[s]})
			}
		}
		have[j][*k] = struct{}{}
		flows[j] = append(flows[j], *k)
		if e, ok := excused[*k]; ok && halt == nil {
			halt = e
		}
	}
	var idx, oidx [MaxHashes]uint32
peel:
	for len(q) > 0 {
		it := q[len(q)-1]
		q = q[:len(q)-1]
		j := int(it.sw)
		k, ok := w[j].pure(it.cell, &idx)
		if !ok {
			continue
		}
		// A pure cell from which a flow decoded elsewhere was removed may
		// hold, if that was a filter false positive, the XOR of the cell's
		// flows and that phantom: a key that passed the purity test by
		// chance, found at no other switch. An empty cell of such a key
		// proves nothing against the table. (A key decoded twice does: a
		// flow already decoded here left the cell, and the XOR of the keys
		// left in it with a lent key is that flow only by damage.)
		phantom := func() bool {
			if borrowed[j] == nil || !borrowed[j][it.cell] {
				return false
			}
			for o := range have {
				if _, ok := have[o][k]; ok && o != j {
					return false
				}
			}
			return true
		}
		if _, dup := have[j][k]; dup {
			halt = fmt.Errorf("%w: table %d: flow %v decoded twice", ErrCorrupt, j, k)
			break peel
		}
		fits := true
		for s := 0; s < w[j].p.Hashes; s++ {
			if w[j].cnt[idx[s]].FlowCount == 0 {
				if borrowed[j] == nil || !borrowed[j][idx[s]] {
					e := fmt.Errorf("%w: table %d: flow %v removed from cell %d, which holds no flow", ErrCorrupt, j, k, idx[s])
					if !phantom() {
						halt = e
						break peel
					}
					if _, ok := excused[k]; !ok {
						excused[k] = e
					}
				}
				fits = false // a flow from another switch emptied it: maybe a filter false positive
			}
		}
		if !fits {
			continue
		}
		remove(j, &k, &idx, false)
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
				fits = fits && w[o].cnt[oidx[s]].FlowCount > 0
			}
			if fits {
				remove(o, &k, &oidx, true)
			}
		}
		if halt != nil {
			break peel // k was excused at a switch as a possible phantom
		}
	}
	stuck = make([]int, len(w))
	total, residue, twice := 0, 0, 0
	var first string
	for j := range w {
		for i := range w[j].cnt {
			c, orig := &w[j].cnt[i], &tables[j].cnt[i]
			switch {
			case c.FlowCount != 0:
				stuck[j]++
				if cancelled(c, &w[j].xor[i]) {
					twice++
				}
			case halt != nil:
				// Stopped before the fixed point: no residue check.
			case borrowed[j] != nil && borrowed[j][i]:
				// Emptied with the help of a flow decoded elsewhere: a
				// leftover FlowXOR may be a filter false positive of a
				// healthy network ([Counters.Mismatch] shows it).
			case w[j].xor[i] != [XORBytes]byte{} || orig.FlowCount == 0 && (orig.PacketCount != 0 || orig.ByteCount != 0):
				if residue == 0 {
					first = fmt.Sprintf("table %d cell %d", j, i)
				}
				residue++
			}
		}
		total += stuck[j]
	}
	if halt != nil {
		return flows, stuck, halt, nil
	}
	var errs []error
	if residue > 0 {
		errs = append(errs, fmt.Errorf("%w: %d cells hold no flow but a FlowXOR or counters (the first: %s)", ErrCorrupt, residue, first))
	}
	if twice > 0 {
		errs = append(errs, errCountedTwice(twice))
	}
	if total > 0 {
		errs = append(errs, fmt.Errorf("%w: %d cells in %d tables still hold flows", ErrDecodeIncomplete, total, len(w)))
	}
	return flows, stuck, nil, errors.Join(errs...)
}

// Counters is the result of [CounterDecode]: per flow, in the order of
// the keys given, its packet and byte counts at the switch.
type Counters struct {
	Packets []int64
	Bytes   []int64
	// Exact[i] is true when flow i's counts are the only ones the
	// switch's consistent cells allow, and they fit every consistent cell
	// of the flow (none of them in Conflict, but for the rounding of
	// undetermined flows that Conflict describes). Such counts are found
	// in one of two ways:
	//   - by peeling a cell that holds the flow alone among the unknowns;
	//   - by a rounded least-squares solution that fits every cell of the
	//     flow's part of the system (the flows linked to it by shared
	//     cells), in which the flow is identifiable: no other assignment
	//     of counts to the flows fits the same cells (see [CounterDecode]).
	//
	// Otherwise the counts are a least-squares estimate, or a count that
	// cells disagree with. A count is never negative: a negative solution
	// is reported as 0 and not exact.
	Exact []bool
	// Residual is the sum over cells of |PacketCount - Σ packets of the
	// cell's flows| for the returned counts: 0 when the switch's counters
	// agree with the flow set.
	Residual int64
	// Conflict counts consistent cells (see Mismatch) whose PacketCount or
	// ByteCount the returned counts do not fit. No flow hashed to such a
	// cell is exact, except a peeled flow sharing it with least-squares
	// flows that the cells do not determine, when the cells of those flows
	// have a solution: the conflict is then the rounding of counts the
	// cells leave free. When every flow of a conflicting cell was found by
	// peeling, the counters contradict themselves and CounterDecode
	// returns an error wrapping [ErrCorrupt]; otherwise the conflict may
	// be the rounding of a least-squares estimate.
	Conflict int
	// Mismatch counts inconsistent cells: cells whose FlowCount differs
	// from the number of the given flows hashed there, or whose FlowXOR
	// differs from the XOR of their keys. The flow set is then not the
	// table's (flows missing, as after [ErrDecodeIncomplete], or flows the
	// switch never saw), and CounterDecode leaves those cells out.
	Mismatch int
}

// CounterDecode is the second stage of network-wide decoding (NSDI'16 §4.2):
// given the flows at a switch, each cell's PacketCount (and ByteCount) is
// the sum of the counts of the flows hashed to it, a linear system with one
// equation per cell and one unknown per flow (more equations than unknowns
// in a table sized by [ParamsFor]; a table holding more flows than cells has
// fewer, and fewer of its counts come out exact). It solves it exactly by
// peeling (a cell with one unknown flow determines it) and the rest, the
// part where every cell holds two or more unknown flows, by least squares
// (CGLS, conjugate gradients on the normal equations), then rounds to
// integers and checks the residual exactly.
//
// Only consistent cells enter the system: a cell whose FlowCount or
// FlowXOR disagrees with the given flows holds a flow that is not among
// them (or lacks one that is), so its counters would charge that flow's
// packets to the others ([Counters.Mismatch] counts them).
//
// The least-squares flows fall into independent parts, flows linked by
// shared cells, and each part is judged alone: a part whose rounded
// counts miss one of its cells (the rounding of flows its cells leave
// free) has no exact flow, and says nothing of the others.
//
// A zero residual alone does not make the least-squares part exact: when
// the cells do not determine the flows (four flows whose cells pair them
// up in a cycle, for one), other counts fit as well. CounterDecode tests
// each flow for that by solving the same system for random counts it
// knows; a flow whose random count comes back unchanged is determined by
// its cells (the chance of a false pass is about 2^-19 per flow). keys
// must be distinct and valid.
//
// Peeling takes each count from one cell; the flow's other cells check
// it. A consistent cell whose counters the counts do not fit
// ([Counters.Conflict]) makes its flows inexact. If all of that cell's
// flows were peeled, the counters contradict themselves: a damaged
// counter, or the packets of a flow that the switch's flow filter took
// for known (counted, its key never encoded), which [Table.Decode] also
// reports as ErrCorrupt. The wrong count may then have travelled along
// the peeling, so every flow peeled before or after the cell's flows
// through shared cells, and every least-squares count, is inexact too,
// and the error wraps [ErrCorrupt]; the counts are returned with it. A
// part of the least-squares system (flows linked by shared cells) whose
// cells have no solution at all, the unrounded least-squares counts
// missing them, is evidence of the same kind wherever its rounded counts
// conflict: none of its flows, no peeled flow in its cells, and no flow
// peeled before or after those is exact (no error: the solve is not exact
// arithmetic). The error wraps [ErrParams] for a nil or zero table and
// for invalid or repeated keys.
func CounterDecode(t *Table, keys []flow.Key) (Counters, error) {
	if !t.valid() {
		return Counters{}, errZero("the table")
	}
	n, k, m := len(keys), t.p.Hashes, len(t.cnt)
	fc := make([]uint32, n*k) // cells of flow f: fc[f*k : f*k+k]
	cnt := make([]int32, m+1) // flows per cell, then CSR offsets
	var idx [MaxHashes]uint32
	seen := make(map[flow.Key]int, n) // the position of each key
	for f := range keys {
		if !keys[f].IsValid() {
			return Counters{}, fmt.Errorf("%w: counter decode: key %d is the zero (invalid) Key; want IPv4 or IPv6 flow keys", ErrParams, f)
		}
		if g, dup := seen[keys[f]]; dup {
			return Counters{}, fmt.Errorf("%w: counter decode: key %d (%v) is the same as key %d; want each flow once", ErrParams, f, keys[f], g)
		}
		seen[keys[f]] = f
		t.CellsOf(&keys[f], &idx)
		copy(fc[f*k:], idx[:k])
		for s := 0; s < k; s++ {
			cnt[idx[s]+1]++
		}
	}
	// A cell is consistent when the given flows hashed there are the
	// table's: as many (FlowCount) and the same keys (FlowXOR).
	xor := make([][XORBytes]byte, m) // FlowXOR of the given flows per cell
	for f := range keys {
		p := keys[f].Padded()
		for _, c := range fc[f*k : f*k+k] {
			xorKey(&xor[c], &p)
		}
	}
	var r Counters
	use := make([]bool, m)
	for c := 0; c < m; c++ {
		use[c] = uint32(cnt[c+1]) == t.cnt[c].FlowCount && xor[c] == t.xor[c]
		if !use[c] {
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
		resP[c] = int64(t.cnt[c].PacketCount)
		resB[c] = int64(t.cnt[c].ByteCount)
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
	from := make([]int32, n) // the cell that peeled flow f, or -1
	for f := range from {
		from[f] = -1
	}
	var order []int32 // the peeled flows, in peeling order
	var stack []int32
	for c := 0; c < m; c++ {
		if unknown[c] == 1 && use[c] {
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
		from[f] = c
		order = append(order, f)
		for _, o := range setKnown(int(f), p, b) {
			resP[o] -= p
			resB[o] -= b
			unknown[o]--
			if unknown[o] == 1 && use[o] {
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
	sys := lsq{core: core, fc: fc, k: k, use: use}
	var id []bool // per core flow, whether its cells determine it; nil until needed
	identified := func(f int32) bool {
		if id == nil {
			id = sys.identifiable(m)
		}
		i, _ := slices.BinarySearch(core, f)
		return id[i]
	}
	var unsolvable []bool // per core flow: its part of the system has no solution
	if len(core) > 0 {
		xp := sys.solve(resP)
		xb := sys.solve(resB)
		pc := sys.checkParts(m, [2][]float64{xp, xb}, [2][]int64{resP, resB})
		unsolvable = pc.unsolvable
		rp := append([]int64(nil), resP...)
		rb := append([]int64(nil), resB...)
		for i, f := range core {
			p, b := int64(math.Round(xp[i])), int64(math.Round(xb[i]))
			for _, o := range setKnown(int(f), p, b) {
				rp[o] -= p
				rb[o] -= b
			}
		}
		// A rounded count is exact when its cells determine it and the
		// rounded counts of its part fit every cell of the part: parts
		// share no cell in use, so one part's rounding cannot make
		// another's counts wrong. A cell in use holding no least-squares
		// flow that the counts do not fit (peeled counts that contradict
		// each other, see below) leaves none exact.
		others := true
		for c := 0; c < m; c++ {
			others = others && (!use[c] || pc.coreCell[c] || rp[c] == 0 && rb[c] == 0)
		}
		for i, f := range core {
			r.Exact[f] = others && !pc.missed[i] && identified(f)
		}
	}
	// A count is never negative. A negative peeled count or exact count
	// proves the counters wrong (a flow-filter false positive cannot take
	// packets away); a negative least-squares estimate is only a poor
	// estimate. Either way it is reported as 0, and the cells then show the
	// difference as a residual.
	negative := false
	for f := 0; f < n; f++ {
		if r.Packets[f] < 0 || r.Bytes[f] < 0 {
			negative = negative || r.Exact[f]
			r.Packets[f], r.Bytes[f] = max(r.Packets[f], 0), max(r.Bytes[f], 0)
		}
	}
	// The residual of every cell for the counts returned, from scratch.
	for c := 0; c < m; c++ {
		resP[c] = int64(t.cnt[c].PacketCount)
		resB[c] = int64(t.cnt[c].ByteCount)
		for _, f := range cf[off[c]:off[c+1]] {
			resP[c] -= r.Packets[f]
			resB[c] -= r.Bytes[f]
		}
		if resP[c] < 0 {
			r.Residual -= resP[c]
		} else {
			r.Residual += resP[c]
		}
	}
	// A consistent cell the counts do not fit is a conflict: its
	// least-squares flows are not exact. When every flow of the cell was
	// peeled, the counts are the only ones the peeling cells allow, so the
	// conflict proves the counters wrong (a damaged counter, or the
	// packets of a flow the flow filter took for known), and CounterDecode
	// returns ErrCorrupt. When the cell also holds least-squares flows
	// that its cells determine, the conflict is evidence as well (no
	// counts fit), though not an error: the least-squares solve is not
	// exact arithmetic. Either way the error may have reached any peeled
	// flow whose count depends on the cell's flows or that the cell's
	// flows depend on: none of those is exact. A conflict in a cell with an
	// undetermined least-squares flow is the rounding of a solution the
	// cells do not fix, if the cells have a solution: the peeled counts of
	// the cell still fit (the undetermined flows can take values that fit
	// them) and stay exact. If they have none (unsolvable, below), the
	// peeled counts charged to them are suspects.
	taint := make([]bool, n)
	proof, evidence := negative, negative
	for c := 0; c < m; c++ {
		if !use[c] || resP[c] == 0 && resB[c] == 0 {
			continue
		}
		r.Conflict++
		peeled, determined := true, true
		for _, f := range cf[off[c]:off[c+1]] {
			if from[f] < 0 {
				r.Exact[f] = false
				peeled = false
				determined = determined && identified(f)
			}
		}
		if peeled {
			proof = true
		}
		if determined {
			evidence = true
			for _, f := range cf[off[c]:off[c+1]] {
				taint[f] = true
				r.Exact[f] = false
			}
		}
	}
	// A part of the least-squares system (core flows linked by shared
	// cells) that has no solution at all is evidence too, wherever its
	// rounded counts happen to conflict: one of its cells or one of the
	// peeled counts charged to them is wrong, and which one the cells do
	// not say. None of its flows, and no peeled flow in its cells, is
	// exact, nor any flow peeled before or after them.
	for c := 0; c < m && unsolvable != nil; c++ {
		hit := false
		for _, f := range cf[off[c]:off[c+1]] {
			if from[f] < 0 {
				i, _ := slices.BinarySearch(core, f)
				hit = hit || unsolvable[i]
			}
		}
		if hit && use[c] {
			evidence = true
			for _, f := range cf[off[c]:off[c+1]] {
				taint[f] = true
				r.Exact[f] = false
			}
		}
	}
	if evidence {
		// Upstream first: the flows each tainted flow was peeled from
		// (reverse peeling order reaches every ancestor); then downstream:
		// every flow peeled from a cell holding a tainted flow.
		for i := len(order) - 1; i >= 0; i-- {
			if f := order[i]; taint[f] {
				for _, g := range cf[off[from[f]]:off[from[f]+1]] {
					taint[g] = true
				}
			}
		}
		for _, f := range order {
			for _, g := range cf[off[from[f]]:off[from[f]+1]] {
				taint[f] = taint[f] || taint[g]
			}
		}
		for f := 0; f < n; f++ {
			if taint[f] || from[f] < 0 {
				r.Exact[f] = false
			}
		}
	}
	if proof {
		return r, fmt.Errorf("%w: counter decode: %d consistent cells contradict the counts that peeling determines", ErrCorrupt, r.Conflict)
	}
	return r, nil
}

// lsq is the least-squares part of a counter decode: the matrix A whose
// column i is flow core[i], with ones at its k cells (fc), restricted to
// the rows (cells) marked in use.
type lsq struct {
	core []int32
	fc   []uint32
	k    int
	use  []bool
}

func (a *lsq) cells(i int) []uint32 {
	f := int(a.core[i])
	return a.fc[f*a.k : f*a.k+a.k]
}

// solve returns the least-squares solution x of A x = b over the rows in
// use.
func (a *lsq) solve(b []int64) []float64 {
	fb := make([]float64, len(b))
	for c, v := range b {
		fb[c] = float64(v)
	}
	return a.cgls(fb)
}

// parts is what checkParts learns of the least-squares system's
// independent parts (core flows linked by shared cells in use).
type parts struct {
	unsolvable []bool // per core flow: its part has no solution
	missed     []bool // per core flow: the rounded counts of its part miss one of its cells
	coreCell   []bool // per cell: in use and holding a core flow
}

// checkParts splits the core into its independent parts and reports, per
// core flow, whether the least-squares solutions xs of A x = bs leave a
// residual in its part: unrounded beyond the solver's rounding error
// (cgls stops early when its rounded solution fits, unrounded counts off
// by up to a half) and rounded (missed). A part whose solution of one
// system (packets or bytes) misses both ways has no solution there
// (unsolvable). Parts are independent blocks
// of A, so each part's residual is its own. A solve stopped before
// converging may make a solvable part look unsolvable, which costs
// exactness, never correctness.
func (a *lsq) checkParts(m int, xs [2][]float64, bs [2][]int64) parts {
	parent := make([]int32, len(a.core))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := make([]int32, m) // a core flow of each row in use, or -1
	for c := range owner {
		owner[c] = -1
	}
	for i := range a.core {
		for _, c := range a.cells(i) {
			if !a.use[c] {
				continue
			}
			if owner[c] < 0 {
				owner[c] = int32(i)
			} else {
				parent[find(int32(i))] = find(owner[c])
			}
		}
	}
	// Per root and per system (packets, bytes): the unrounded solution
	// misses a row, the rounded one does. A system has no solution where
	// both miss; the packet solve may stop early on a rounded solution
	// that fits while the byte solve converges to a fractional one that
	// does not, which says nothing against either system.
	p := parts{unsolvable: make([]bool, len(a.core)), missed: make([]bool, len(a.core)), coreCell: make([]bool, m)}
	far := make([]bool, len(a.core))
	off := make([]bool, len(a.core))
	r := make([]float64, m)
	rr := make([]float64, m)
	for q, x := range xs {
		clear(far)
		clear(off)
		b := bs[q]
		var scale float64
		for c, o := range owner {
			if o >= 0 {
				r[c] = float64(b[c])
				rr[c] = r[c]
				scale = max(scale, math.Abs(r[c]))
			}
		}
		for i := range a.core {
			for _, c := range a.cells(i) {
				if a.use[c] {
					r[c] -= x[i]
					rr[c] -= math.Round(x[i])
				}
			}
		}
		tol := 1e-6 + 1e-9*scale
		for c, o := range owner {
			if o < 0 {
				continue
			}
			if math.Abs(r[c]) > tol {
				far[find(o)] = true
			}
			if rr[c] != 0 {
				off[find(o)] = true
			}
		}
		for i := range a.core {
			root := find(int32(i))
			p.unsolvable[i] = p.unsolvable[i] || far[root] && off[root]
			p.missed[i] = p.missed[i] || off[root]
		}
	}
	for c, o := range owner {
		p.coreCell[c] = o >= 0
	}
	return p
}

// identifiable reports, per core flow, whether A determines its count:
// whether e_i lies in A's row space, so that every solution of A x = b
// has the same x_i. It solves A x = A x0 for random counts x0 of about
// 2^20: CGLS from zero returns the minimum-norm solution, x0 less its
// part in A's null space, which keeps x0_i exactly when e_i is orthogonal
// to the null space, and otherwise moves it by a random amount (of the
// order of the counts) that rounds to zero with probability about 2^-19.
// The seed is fixed, so a decode is reproducible.
func (a *lsq) identifiable(m int) []bool {
	rng := rand.New(rand.NewPCG(uint64(len(a.core)), uint64(m)))
	x0 := make([]int64, len(a.core))
	b := make([]float64, m)
	for i := range a.core {
		x0[i] = 1<<20 + rng.Int64N(1<<20)
		for _, c := range a.cells(i) {
			if a.use[c] {
				b[c] += float64(x0[i])
			}
		}
	}
	x := a.cgls(b)
	id := make([]bool, len(a.core))
	for i := range x {
		id[i] = int64(math.Round(x[i])) == x0[i]
	}
	return id
}

// cgls returns the least-squares solution x of A x = b by conjugate
// gradients on the normal equations (CGLS), starting from zero, so the
// minimum-norm solution when A is rank deficient. b is integral. Every few
// iterations it rounds x and stops early when the rounded x solves the
// system exactly, the common case for counters that agree with the flow
// set.
func (a *lsq) cgls(b []float64) []float64 {
	n, m := len(a.core), len(b)
	x := make([]float64, n)
	res := make([]float64, m) // b - A x on the rows in use, 0 elsewhere
	var rows []uint32         // the rows in use that hold core flows
	mark := make([]bool, m)
	for i := range a.core {
		for _, c := range a.cells(i) {
			if a.use[c] && !mark[c] {
				mark[c] = true
				rows = append(rows, c)
				res[c] = b[c]
			}
		}
	}
	s := make([]float64, n)
	at := func(v []float64, out []float64) { // out = A^T v
		for i := range a.core {
			var sum float64
			for _, c := range a.cells(i) {
				sum += v[c]
			}
			out[i] = sum
		}
	}
	ri := make([]float64, m)
	integral := func() bool {
		for _, c := range rows {
			ri[c] = b[c]
		}
		for i := range a.core {
			v := math.Round(x[i])
			for _, c := range a.cells(i) {
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
		for i := range a.core { // q = A p, on the rows in use
			for _, c := range a.cells(i) {
				if mark[c] {
					q[c] += p[i]
				}
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

func sumInts(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
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

// Loss returns the largest minus the smallest exact packet count of the
// flow across its switches: 0 when they agree, otherwise packets lost
// between them (in a lossless network every switch on a path counts every
// packet). Least-squares estimates ([Count.Exact] false) are left out:
// they are no evidence of loss. A flow with fewer than two exact counts
// has Loss 0. [Network.Hops] says where along the flow's path the
// packets were lost.
func (f *FlowReport) Loss() int64 {
	var lo, hi int64
	n := 0
	for _, c := range f.Counts {
		if !c.Exact {
			continue
		}
		if n == 0 {
			lo, hi = c.Packets, c.Packets
		}
		lo, hi = min(lo, c.Packets), max(hi, c.Packets)
		n++
	}
	return hi - lo
}

// Network is the result of [DecodeNetwork].
type Network struct {
	Flows    []FlowReport // every flow decoded anywhere: by first switch holding it, then in decoding order
	Stuck    []int        // per switch, cells FlowDecode left holding flows
	Residual []int64      // per switch, see [Counters.Residual]
	Conflict []int        // per switch, see [Counters.Conflict]
	Mismatch []int        // per switch, see [Counters.Mismatch]
}

// DecodeNetwork decodes the tables of many switches for one epoch:
// [FlowDecode] across all of them, then [CounterDecode] at each switch, and
// reports every flow with its counters per switch, so that inconsistencies
// between the switches of a path show that packets were lost
// ([FlowReport.Loss]) and where ([Network.Hops]). Errors are those of
// FlowDecode and of CounterDecode at each switch (prefixed with the table's
// index), joined. Whatever the error, except [ErrParams] for a nil or zero
// table (which comes with an empty Network), the result holds every flow
// found and every switch's counters, with [ErrDecodeIncomplete],
// [ErrCorrupt] or both. Where FlowDecode stops at once on a contradiction
// (see [FlowDecode]), that is the flows found until then, Stuck counts the
// cells still holding flows at that point, and the error wraps
// ErrDecodeIncomplete too if there are any. Counts marked exact are those
// the counters determine, whatever the error; the others are estimates (see
// [Counters.Exact]). An exact count is the true one unless a flow-filter
// false positive or a damaged counter went unnoticed, as it can when the
// extra packets are what other counts of their cells' flows would add
// (they share cells only with flows that no other cell checks; or, along
// a chain of shared cells, they raise some flows' counts and lower
// others', every cell still fitting); no error says so then (rare with
// filters sized by [ParamsFor]; see [Params.FilterFPR]). Residual, Conflict and Mismatch say how far each
// switch's table is from the flows and counts returned.
func DecodeNetwork(tables []*Table) (Network, error) {
	sets, stuck, halt, err := flowDecode(tables)
	if stuck == nil {
		return Network{}, err // ErrParams: a nil or zero table
	}
	nw := Network{Stuck: stuck, Residual: make([]int64, len(tables)), Conflict: make([]int, len(tables)), Mismatch: make([]int, len(tables))}
	var errs []error
	if halt != nil {
		// FlowDecode stopped at once: decode the counters of the flows it
		// found, as Table.Decode returns what it peeled before ErrCorrupt.
		errs = append(errs, halt)
		if total := sumInts(stuck); total > 0 {
			errs = append(errs, fmt.Errorf("%w: decoding stopped with %d cells in %d tables holding flows", ErrDecodeIncomplete, total, len(tables)))
		}
	}
	if err != nil {
		errs = append(errs, err)
	}
	pos := make(map[flow.Key]int)
	for j, keys := range sets {
		cs, cerr := CounterDecode(tables[j], keys)
		if cerr != nil && !errors.Is(cerr, ErrCorrupt) {
			return nw, cerr
		}
		if cerr != nil {
			errs = append(errs, fmt.Errorf("table %d: %w", j, cerr))
		}
		nw.Conflict[j] = cs.Conflict
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
	return nw, errors.Join(errs...)
}
