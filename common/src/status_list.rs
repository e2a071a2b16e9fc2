//! The Token Status List (draft-ietf-oauth-status-list-20): one bit per
//! token, packed from the least significant bit of each byte, compressed
//! with DEFLATE in the ZLIB format and written in base64url as `lst`.
//! tokend writes lists with [`StatusBits`]; the verifiers read them with
//! [`StatusBits::decode`].

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The `typ` of a Status List Token, and (after `application/`) its media type.
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";
/// The media type the HTTP endpoint answers with.
pub const STATUS_LIST_MEDIA_TYPE: &str = "application/statuslist+jwt";
/// The statuses of one list: how many tokens it can hold, one bit each.
pub const LIST_CAPACITY: u64 = 1 << 20;
/// The largest list a verifier inflates (a bound on what a forged or broken
/// list can make it allocate), well above tokend's own.
const MAX_DECODED_BYTES: usize = 16 << 20;

/// A list of 1-bit statuses: 0 is VALID, 1 is INVALID (revoked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusBits(Vec<u8>);

/// Why a `lst` could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadList(pub &'static str);

impl StatusBits {
    /// `capacity` VALID statuses (rounded up to whole bytes).
    pub fn new(capacity: u64) -> Self {
        Self(vec![0; capacity.div_ceil(8) as usize])
    }

    /// Marks the token at `index` INVALID; an index beyond the list is ignored.
    pub fn set(&mut self, index: u64) {
        if let Some(byte) = self.0.get_mut((index / 8) as usize) {
            *byte |= 1 << (index % 8);
        }
    }

    /// Marks `count` tokens from `first` INVALID.
    pub fn set_range(&mut self, first: u64, count: u64) {
        (first..first.saturating_add(count)).for_each(|index| self.set(index));
    }

    /// Whether the token at `index` is INVALID; `None` beyond the list,
    /// where nothing can be said of it (and it must be refused).
    pub fn is_set(&self, index: u64) -> Option<bool> {
        let byte = self.0.get(usize::try_from(index / 8).ok()?)?;
        Some(byte & (1 << (index % 8)) != 0)
    }

    /// How many tokens the list holds statuses for.
    pub fn capacity(&self) -> u64 {
        self.0.len() as u64 * 8
    }

    /// The `lst` member: compressed at the highest level, as the draft recommends.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec_zlib(&self.0, 9))
    }

    /// Reads a `lst` member of 1-bit statuses.
    pub fn decode(lst: &str) -> Result<Self, BadList> {
        let compressed = URL_SAFE_NO_PAD.decode(lst).map_err(|_| BadList("lst is not base64url"))?;
        miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&compressed, MAX_DECODED_BYTES)
            .map(Self)
            .map_err(|_| BadList("lst is not a ZLIB stream of at most 16 MiB"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The draft's 16-token example (§4.1): statuses 0, 3, 4, 5, 7, 8, 9, 13
    /// and 15 set make bytes B9 A3, which compress to `eNrbuRgAAhcBXQ`.
    #[test]
    fn the_drafts_short_example_encodes_and_decodes_as_it_says() {
        let mut bits = StatusBits::new(16);
        [0, 3, 4, 5, 7, 8, 9, 13, 15].into_iter().for_each(|index| bits.set(index));
        assert_eq!(bits.0, [0xb9, 0xa3]);
        assert_eq!(bits.encode(), "eNrbuRgAAhcBXQ");
        assert_eq!(StatusBits::decode("eNrbuRgAAhcBXQ").unwrap(), bits);
    }

    /// The draft's 1-bit test vector (appendix "Test vectors"): a list of
    /// 2^20 statuses with eleven set.
    #[test]
    fn the_drafts_long_test_vector_decodes_to_its_eleven_revocations() {
        let lst = "eNrt3AENwCAMAEGogklACtKQPg9LugC9k_ACvreiogEAAKkeCQAAAAAAAAAAAAAAAAAAAIBylgQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAXG9IAAAAAAAAAPwsJAAAAAAAAAAAAAAAvhsSAAAAAAAAAAAA7KpLAAAAAAAAAAAAAAAAAAAAAJsLCQAAAAAAAAAAADjelAAAAAAAAAAAKjDMAQAAAACAZC8L2AEb";
        let set = [0, 1993, 25460, 159495, 495669, 554353, 645645, 723232, 854545, 934534, 1000345];
        let bits = StatusBits::decode(lst).unwrap();
        assert_eq!(bits.capacity(), LIST_CAPACITY);
        let found: Vec<u64> = (0..LIST_CAPACITY).filter(|&index| bits.is_set(index) == Some(true)).collect();
        assert_eq!(found, set);
        let mut written = StatusBits::new(LIST_CAPACITY);
        set.into_iter().for_each(|index| written.set(index));
        assert_eq!(StatusBits::decode(&written.encode()).unwrap(), bits, "what we write reads back the same");
    }

    #[test]
    fn an_index_beyond_the_list_says_nothing() {
        let bits = StatusBits::new(16);
        assert_eq!(bits.is_set(15), Some(false));
        assert_eq!(bits.is_set(16), None);
        assert_eq!(bits.is_set(u64::MAX), None);
    }

    #[test]
    fn broken_lists_are_refused() {
        assert!(StatusBits::decode("not base64!").is_err());
        assert!(StatusBits::decode("AAAA").is_err(), "not zlib");
        // 32 MiB of zeros compresses to 32 KiB; the verifier will not inflate it.
        let bomb = URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec_zlib(&vec![0; 32 << 20], 9));
        assert!(StatusBits::decode(&bomb).is_err());
    }

    #[test]
    fn ranges_set_every_bit_in_them_and_no_other() {
        let mut bits = StatusBits::new(64);
        bits.set_range(5, 20);
        let found: Vec<u64> = (0..64).filter(|&index| bits.is_set(index) == Some(true)).collect();
        assert_eq!(found, (5..25).collect::<Vec<_>>());
    }
}
