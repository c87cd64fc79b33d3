package maglev

import "fmt"

// Limits of a table, and its empty entry.
const (
	// DefaultSize is the table size M used when Params.Size is zero: the
	// paper's default (section 5.3), also Katran's and Envoy's.
	DefaultSize = 65537
	// MaxSize is the largest table size accepted (Envoy's limit). Building a
	// table of this size needs 20 MB for the entries and 619 KiB of scratch
	// (plus about 40 bytes per backend, 64 when the weights differ).
	MaxSize = 5000011
	// MaxNameLen is the longest backend name accepted, in bytes.
	MaxNameLen = 255
	// NoBackend is the entry of a table that has no backend with a
	// non-zero weight. The kernel (maglev/xdp) drops a packet whose entry
	// is NoBackend and counts it as DropNoBackend.
	NoBackend = ^uint32(0)
)

// Params configure a [Table].
type Params struct {
	// Size is M in the paper, the number of table entries: a prime in
	// [2, MaxSize]. Zero means DefaultSize. Choose M > 100*N for a 1%
	// balance (section 3.4).
	Size uint32
	// Seed keys the hash of backend names. Every node that must agree on
	// the table uses the same seed.
	Seed uint64
}

func (p Params) size() uint32 {
	if p.Size == 0 {
		return DefaultSize
	}
	return p.Size
}

// Validate reports whether p is usable: its size (Size, or DefaultSize
// when zero) must be a prime in [2, MaxSize]. [New] checks the same, but
// it also builds the table; Validate checks a configuration without
// allocating it.
func (p Params) Validate() error {
	m := p.size()
	if m < 2 || m > MaxSize {
		return fmt.Errorf("maglev: size must be a prime in [2, %d], got %d", MaxSize, m)
	}
	if !IsPrime(m) {
		return fmt.Errorf("maglev: size must be prime (every skip must be coprime with it), got %d; nearest primes %d and %d",
			m, PrevPrime(m), NextPrime(m))
	}
	return nil
}

// IsPrime reports whether n is prime.
func IsPrime(n uint32) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := uint32(3); uint64(d)*uint64(d) <= uint64(n); d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// NextPrime returns the smallest prime at least n (0 if there is none
// below 2^32).
func NextPrime(n uint32) uint32 {
	for ; !IsPrime(n); n++ {
		if n == ^uint32(0) {
			return 0
		}
	}
	return n
}

// PrevPrime returns the largest prime at most n (0 if n < 2).
func PrevPrime(n uint32) uint32 {
	for ; n >= 2; n-- {
		if IsPrime(n) {
			return n
		}
	}
	return 0
}

// SizeFor returns the smallest prime at least 100*n, the paper's rule for
// at most a 1% difference in hash space between backends (section 3.4):
// the least size that rule allows, not a recommendation. A larger table
// balances better and moves fewer flows beyond the ideal when backends
// change; the default (Size 0 in [Params]: [DefaultSize] entries) meets
// the rule for any N up to 655. It fails when that prime exceeds MaxSize.
func SizeFor(n int) (uint32, error) {
	if n < 1 || n > MaxSize/100 {
		return 0, fmt.Errorf("maglev: backend count must be in [1, %d] to size a table, got %d", MaxSize/100, n)
	}
	return NextPrime(uint32(100 * n)), nil
}
