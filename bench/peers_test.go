package bench

// The peers this module is measured against. Each package's benchmark file
// uses them; the blank imports keep them in go.mod while those files come
// and go.
import (
	_ "github.com/bits-and-blooms/bloom/v3"
	_ "github.com/buraksezer/consistent"
	_ "github.com/dgryski/go-jump"
	_ "github.com/dgryski/go-maglev"
	_ "github.com/dgryski/go-rendezvous"
	_ "github.com/golang/groupcache/consistenthash"
	_ "github.com/google/gopacket"
	_ "github.com/greatroar/blobloom"
	_ "github.com/holiman/bloomfilter/v2"
	_ "github.com/kkdai/maglev"
	_ "github.com/stathat/consistent"
	_ "github.com/tylertreat/BoomFilters"
)
