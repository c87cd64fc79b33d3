package flowradar

import "github.com/dataplane-go/dataplane/flow"

// Packet is one packet as an encoder counts it: its flow and its size in
// bytes. [Table.AddPackets] takes a batch of them.
type Packet struct {
	Key  flow.Key
	Size uint32
}

// groupSize is how many packets AddPackets takes at a time: enough that
// the cache misses of many packets overlap, few enough that their cell
// positions stay in small arrays on the stack.
const groupSize = 16

// AddPackets counts every packet of pkts, in order, and returns how many
// of them were the first of a flow new to the epoch: the table ends as a
// loop of [Table.Add] over pkts leaves it, field for field. It is the
// faster of the two once the table outgrows the CPU's caches. For a group
// of packets it first computes every cell position, then tests and sets
// the flow filter packet by packet, then updates the cells in a loop of a
// few instructions per cell, so the CPU's out-of-order window holds the
// cache misses of many packets at once rather than of one or two. (The
// cell updates commute, so doing them after the group's filter updates
// leaves what Add leaves.) Invalid keys are ignored, as Add ignores them,
// and the zero Table ignores every packet. It never allocates.
func (t *Table) AddPackets(pkts []Packet) int {
	if !t.valid() {
		return 0
	}
	kc := t.p.Hashes
	if t.geom != nil || kc > MaxHashes {
		added := 0 // a test geometry: the loop itself
		for i := range pkts {
			if t.Add(&pkts[i].Key, pkts[i].Size) {
				added++
			}
		}
		return added
	}
	var hs [groupSize]uint64
	var at [groupSize]uint8 // index in the group of the j-th valid packet
	var isNew [groupSize]bool
	var pos [groupSize * MaxHashes]uint32
	cells, xor := t.cnt, t.xor
	added := 0
	for len(pkts) > 0 {
		g := pkts[:min(len(pkts), groupSize)]
		pkts = pkts[len(g):]
		m := 0
		for j := range g {
			if !validKey(&g[j].Key) {
				continue
			}
			h := g[j].Key.Hash(t.p.Seed)
			hs[m], at[m] = h, uint8(j)
			t.cellsOf(h, pos[m*kc:(m+1)*kc])
			m++
		}
		for j, h := range hs[:m] {
			isNew[j] = !t.filter.TestAndAddHash(h)
		}
		for j := range m {
			p := &g[at[j]]
			cs := pos[j*kc : (j+1)*kc]
			if isNew[j] {
				added++
				x := p.Key.Padded()
				for _, i := range cs {
					xorKey(&xor[i], &x)
					cells[i].FlowCount++
				}
			}
			size := uint64(p.Size)
			if kc == 4 {
				c := (*[4]uint32)(cs)
				cells[c[0]].PacketCount++
				cells[c[0]].ByteCount += size
				cells[c[1]].PacketCount++
				cells[c[1]].ByteCount += size
				cells[c[2]].PacketCount++
				cells[c[2]].ByteCount += size
				cells[c[3]].PacketCount++
				cells[c[3]].ByteCount += size
				continue
			}
			for _, i := range cs {
				cells[i].PacketCount++
				cells[i].ByteCount += size
			}
		}
	}
	return added
}

// AddPackets counts pkts in the active epoch and returns how many were
// the first packet of a flow new to the epoch; see [Table.AddPackets].
func (e *Encoder) AddPackets(pkts []Packet) int { return e.cur.AddPackets(pkts) }
