//! The per-candidate HMAC check, written against the raw SHA-2 compression
//! functions so that a guess costs nothing but compressions.
//!
//! HMAC(K, m) = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)). For a fixed token the
//! message `m` (the signing input) never changes, but the chaining state after
//! the first block depends on the key, so every block still has to be
//! compressed for every guess. What is done once per run: padding the message
//! into whole blocks (length field included) and the outer block's padding;
//! what is done per guess: two XORs of one block and two calls into
//! `sha2::compress256`/`compress512` (which pick SHA-NI, AVX2 or the portable
//! code at run time), with no allocation. Only the first 64 bits of the tag
//! are compared in the hot path; a hit is confirmed over the whole tag in
//! constant time before it is reported.
//!
//! This is hand-written because it is the product here: the `hmac` crate
//! re-pads and re-buffers the message for every key. Its output is checked
//! against the `hmac` crate in the tests.

use sha2::digest::generic_array::typenum::{U128, U64};
use sha2::digest::generic_array::GenericArray;
use sha2::Digest;
use subtle::ConstantTimeEq;

/// Something that says whether a candidate key produces the token's tag.
pub(crate) trait TagCheck: Send {
    /// Whether HMAC(`key`, signing input) equals the token's signature.
    fn check(&mut self, key: &[u8]) -> bool;
}

const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];
const SHA384_IV: [u64; 8] = [
    0xcbbb9d5dc1059ed8,
    0x629a292a367cd507,
    0x9159015a3070dd17,
    0x152fecd8f70e5939,
    0x67332667ffc00b31,
    0x8eb44a8768581511,
    0xdb0c2e0d64f98fa7,
    0x47b5481dbefa4fa4,
];
const SHA512_IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

/// `prefix_len` bytes (the key block) followed by `msg`, padded the SHA-2 way
/// into whole blocks of `block` bytes with a `len_bytes` big-endian bit count;
/// the first block (where the key goes) is left zero.
fn padded(prefix_len: usize, msg: &[u8], block: usize, len_bytes: usize) -> Vec<u8> {
    let total = prefix_len + msg.len();
    let blocks = (total + 1 + len_bytes).div_ceil(block);
    let mut out = vec![0u8; blocks * block];
    out[prefix_len..total].copy_from_slice(msg);
    out[total] = 0x80;
    let bits = (total as u128) * 8;
    let be = bits.to_be_bytes();
    out[blocks * block - len_bytes..].copy_from_slice(&be[16 - len_bytes..]);
    out
}

macro_rules! checker {
    ($name:ident, $word:ty, $size:ty, $block:literal, $len_bytes:literal, $compress:path, $hash:ty) => {
        /// HMAC tag check for one token with this hash.
        pub(crate) struct $name {
            iv: [$word; 8],
            /// Words of the tag (6 for SHA-384, 8 otherwise).
            out_words: usize,
            /// K ⊕ ipad (rewritten per guess), then the padded message.
            inner: Vec<GenericArray<u8, $size>>,
            /// K ⊕ opad (rewritten per guess), then inner hash and padding.
            outer: [GenericArray<u8, $size>; 2],
            /// The expected tag as state words, for a cheap first comparison.
            want: [$word; 8],
            sig: Vec<u8>,
        }

        impl $name {
            pub(crate) fn new(iv: [$word; 8], input: &[u8], sig: &[u8]) -> Self {
                const W: usize = std::mem::size_of::<$word>();
                let out_words = sig.len() / W;
                let inner_bytes = padded($block, input, $block, $len_bytes);
                let inner = inner_bytes
                    .chunks_exact($block)
                    .map(|c| GenericArray::clone_from_slice(c))
                    .collect();
                let outer_bytes = padded($block, &vec![0u8; sig.len()], $block, $len_bytes);
                debug_assert_eq!(outer_bytes.len(), 2 * $block);
                let outer = [
                    GenericArray::clone_from_slice(&outer_bytes[..$block]),
                    GenericArray::clone_from_slice(&outer_bytes[$block..]),
                ];
                let mut want = [0 as $word; 8];
                for (w, c) in want.iter_mut().zip(sig.chunks_exact(W)) {
                    let mut b = [0u8; W];
                    b.copy_from_slice(c);
                    *w = <$word>::from_be_bytes(b);
                }
                $name {
                    iv,
                    out_words,
                    inner,
                    outer,
                    want,
                    sig: sig.to_vec(),
                }
            }

            #[inline(always)]
            fn tag_state(&mut self, key: &[u8]) -> [$word; 8] {
                const W: usize = std::mem::size_of::<$word>();
                let mut k = [0u8; $block];
                if key.len() > $block {
                    // RFC 2104: a key longer than the block is hashed first.
                    let d = <$hash>::digest(key);
                    k[..d.len()].copy_from_slice(&d);
                } else {
                    k[..key.len()].copy_from_slice(key);
                }
                for ((i, o), b) in self.inner[0]
                    .iter_mut()
                    .zip(self.outer[0].iter_mut())
                    .zip(k.iter())
                {
                    *i = b ^ 0x36;
                    *o = b ^ 0x5c;
                }
                let mut st = self.iv;
                $compress(&mut st, &self.inner);
                for (dst, w) in self.outer[1]
                    .chunks_exact_mut(W)
                    .zip(st.iter())
                    .take(self.out_words)
                {
                    dst.copy_from_slice(&w.to_be_bytes());
                }
                let mut st = self.iv;
                $compress(&mut st, &self.outer);
                st
            }
        }

        impl TagCheck for $name {
            #[inline]
            fn check(&mut self, key: &[u8]) -> bool {
                const W: usize = std::mem::size_of::<$word>();
                let st = self.tag_state(key);
                // Cheap pre-filter: a wrong key passes it with probability 2^-64.
                if st[0] != self.want[0] || st[1] != self.want[1] {
                    return false;
                }
                let mut tag = [0u8; 8 * W];
                for (dst, w) in tag.chunks_exact_mut(W).zip(st.iter()) {
                    dst.copy_from_slice(&w.to_be_bytes());
                }
                bool::from(tag[..self.sig.len()].ct_eq(&self.sig))
            }
        }
    };
}

checker!(
    Sha256Check,
    u32,
    U64,
    64,
    8,
    sha2::compress256,
    sha2::Sha256
);
checker!(
    Sha512Check,
    u64,
    U128,
    128,
    16,
    sha2::compress512,
    sha2::Sha512
);

/// The SHA-384 variant: same compression as SHA-512, other IV, 48-byte tag,
/// and over-long keys are hashed with SHA-384.
pub(crate) struct Sha384Check(Sha512Check);

impl Sha256Check {
    pub(crate) fn hs256(input: &[u8], sig: &[u8]) -> Self {
        Sha256Check::new(SHA256_IV, input, sig)
    }
}

impl Sha512Check {
    pub(crate) fn hs512(input: &[u8], sig: &[u8]) -> Self {
        Sha512Check::new(SHA512_IV, input, sig)
    }
}

impl Sha384Check {
    pub(crate) fn hs384(input: &[u8], sig: &[u8]) -> Self {
        Sha384Check(Sha512Check::new(SHA384_IV, input, sig))
    }
}

impl TagCheck for Sha384Check {
    #[inline]
    fn check(&mut self, key: &[u8]) -> bool {
        if key.len() > 128 {
            let d = sha2::Sha384::digest(key);
            return self.0.check(&d);
        }
        self.0.check(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    fn reference<M: Mac + hmac::digest::KeyInit>(key: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut m = <M as hmac::digest::KeyInit>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    }

    #[test]
    fn matches_the_hmac_crate_at_every_padding_boundary() {
        let keys: Vec<Vec<u8>> = [0usize, 1, 31, 32, 63, 64, 65, 127, 128, 129, 300]
            .iter()
            .map(|&n| (0..n).map(|i| (i * 7 + 3) as u8).collect())
            .collect();
        for msg_len in (0..300).chain([335, 1000]) {
            let msg: Vec<u8> = (0..msg_len).map(|i| (i * 13 + 1) as u8).collect();
            for key in &keys {
                let t256 = reference::<Hmac<sha2::Sha256>>(key, &msg);
                let t384 = reference::<Hmac<sha2::Sha384>>(key, &msg);
                let t512 = reference::<Hmac<sha2::Sha512>>(key, &msg);
                assert!(Sha256Check::hs256(&msg, &t256).check(key), "{msg_len}");
                assert!(Sha384Check::hs384(&msg, &t384).check(key), "{msg_len}");
                assert!(Sha512Check::hs512(&msg, &t512).check(key), "{msg_len}");
                // (Not `key + [0]`: HMAC pads short keys with zeros, so
                // that is the same key.)
                let mut wrong = key.clone();
                wrong.push(1);
                assert!(!Sha256Check::hs256(&msg, &t256).check(&wrong));
                assert!(!Sha384Check::hs384(&msg, &t384).check(&wrong));
                assert!(!Sha512Check::hs512(&msg, &t512).check(&wrong));
            }
        }
    }

    #[test]
    fn a_tag_wrong_after_the_first_eight_bytes_is_rejected() {
        let msg = b"header.payload";
        let mut t = reference::<Hmac<sha2::Sha256>>(b"k", msg);
        t[31] ^= 1;
        assert!(!Sha256Check::hs256(msg, &t).check(b"k"));
        let mut t = reference::<Hmac<sha2::Sha384>>(b"k", msg);
        t[40] ^= 1;
        assert!(!Sha384Check::hs384(msg, &t).check(b"k"));
    }
}
