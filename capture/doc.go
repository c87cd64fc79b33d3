// Package capture reads and writes packet captures and makes traffic for
// tests and benchmarks: a pcap/pcapng [Reader], a pcap [Writer], an
// amplifier that replays a capture N times with disjoint addresses
// ([Amplify]), and a generator of synthetic datacenter-like traces
// ([Generate]).
//
// The reader takes pcap (microsecond or nanosecond, either byte order) and
// pcapng (sections of either byte order, per-interface link type and
// timestamp resolution, enhanced, simple and obsolete packet blocks),
// gzip-compressed or not. It trusts each record's own length up to
// [MaxRecordLen], whatever the file header's snapshot length says, and
// reports a damaged record as a [*RecordError] naming the file, the record
// and the fault, after delivering every packet before it. [ReadFile] reads
// a whole file; [Reader.NextInto] reads packet by packet without
// allocating (but in the decompressor of a gzip-compressed capture).
// [Packet.Ethernet] turns raw-IP, loopback and Linux cooked captures into
// Ethernet frames, the input every parser of this module takes.
//
// A Reader, a Writer and an Amplifier are not safe for concurrent use; the
// functions are.
//
// Formats: pcap as documented by tcpdump.org (pcap-savefile(5)); pcapng as
// in the IETF OPSAWG draft "PCAP Now Generic (pcapng) Capture File Format".
package capture
