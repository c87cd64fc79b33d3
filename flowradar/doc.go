// Package flowradar implements FlowRadar, per-flow counters for every
// flow of a switch in a small fixed table, encoded at line rate in the
// switch and decoded at a collector.
//
// An [Encoder] keeps, per epoch, a flow filter (a blocked Bloom filter of
// the flows seen, [bloom.Blocked]) and a counting table of cells ([Cell])
// split into Hashes sub-tables with one hash each. A flow's first packet
// XORs its key into FlowXOR and adds 1 to FlowCount in its cells; every
// packet adds to PacketCount (and ByteCount). [Encoder.AddPackets] counts a
// batch of packets with the same result as a loop of [Encoder.Add], faster
// once the table outgrows the CPU's caches. [Table.Decode] (SingleDecode)
// recovers every flow with exact counters while the table has more than
// about 1.3 cells per flow (4 hashes); above that load it returns what it
// peeled and the remainder. [Table.DecodeInto] decodes into a [Decoded]
// the caller keeps, and allocates nothing once it has held an epoch of
// the same Params (but for the error of a decode that fails).
//
// [DecodeNetwork] decodes many switches together: [FlowDecode] removes a
// flow found at one switch from every switch whose filter holds it, to a
// fixed point, and [CounterDecode] solves each switch's counters as a
// linear system, so flows undecodable at every single switch are found,
// and disagreements between the switches of a path ([FlowReport.Loss])
// show packet loss. FlowDecode recovers flow sets above the single
// threshold, how far above depending on how evenly the flows spread over
// the switches: in a 4-leaf, 2-spine [LeafSpine] with 1e4 flows, flows
// spread evenly (uniformly random addresses, 3692 to 4395 per switch) are
// all found at 0.8 cells per flow at the busiest switch but only 2.5% of
// them at 0.6, where every switch stalls at once; the shared captures
// amplified to 1e4 flows (7117 flows on one leaf, 1260 on another) are
// all found at 0.6, the lightly loaded switches handing their flows to the
// busy ones (TestLeafSpine_NetworkDecodeSpread). CounterDecode is exact
// where a switch has clearly more cells than flows (about 1.1 or more) and
// gives least-squares estimates, marked inexact, below that; a count
// whose cells disagree is never marked exact. Given a flow's path,
// [Network.Hops] places its loss: the pair of consecutive switches where
// its exact count falls, and by how much, or unknown where the counts
// are estimates. [LeafSpine] simulates a network of encoders, with
// lossy switches, and gives each flow's path.
//
// Sizing: [ParamsFor] gives 1.36 cells per flow (more below about 1,600
// flows, where that load often fails to decode: 1.92 at 50 flows) and a
// filter of 64 bits per flow, 7 of them set by each flow (false-positive
// rate 6.6e-7 when full, see [Params.FilterFPR]): 84.2 bytes per flow per
// epoch, twice that for an Encoder's two epochs. The paper's prototype uses
// a classic Bloom filter. A blocked one answers from one cache line and one
// mix of the hash, and that is what the packets of known flows (almost all
// packets) pay for; it needs more bits for the same rate (64 per flow here
// where a classic filter with 10 hashes needs 36, 3.5 bytes of the 84). A
// filter false positive makes a new flow look known: its packets are counted
// but its key is not. Decoding (single or network-wide) usually reports the
// residue as an error wrapping [ErrCorrupt] (see [FlowDecode] for what is
// and is not an error across switches), but not always: when the packets
// added to those cells are what other counts of the cells' flows would add
// (they share cells only with flows that no other cell checks; or, along a
// chain of shared cells, they raise some flows' counts and lower others'),
// decoded counts can be wrong with no error (see [DecodeNetwork]).
//
// Layout, shared bit for bit with the kernel in flowradar/xdp: a key's
// one hash is h = xxHash64(key bytes, Seed); the filter is the
// bloom.Blocked of FilterBits bits, FilterHashes and Seed, held as 64-bit
// words (block flow.Reduce(h, FilterBits/512), in-block bit i from
// flow.Mix(h, i/7)); the flow's cell in sub-table s is s*Cells/Hashes +
// flow.Index(h, 32+s, Cells/Hashes). The filter's block comes from h
// itself and its bits from flow.Mix(h, 0) to flow.Mix(h, 4) at most, the
// cells from flow.Mix(h, 32+s): disjoint outputs of the index derivation,
// so their indexes are independent without hashing the key twice. IPv4
// and IPv6 share one table: FlowXOR is 40 bytes wide (see [Cell]).
// [Table.MarshalBinary] writes all of it little-endian.
//
// The zero values of [Encoder] and [Table] are not valid; use [New] and
// [NewTable]. They do not panic: the zero Table holds no flow and ignores
// Add, and the decoders and [Table.MarshalBinary] reject it with an error
// wrapping [ErrParams]. Neither is safe for concurrent writers;
// [Encoder.Flip] gives a frozen table that may be read while encoding goes
// on. Keys may be attacker-chosen only if the seeds are secret.
//
// Reference: Li, Miao, Kim and Yu, "FlowRadar: A Better NetFlow for Data
// Centers", NSDI 2016 (§3 encoding, §4.1 SingleDecode, §4.2 network-wide
// decoding).
package flowradar
