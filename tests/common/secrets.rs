//! Synthetic secrets in the real formats (right prefix, alphabet, length, checksum), made up
//! for these tests from a fixed seed. None was ever a live credential.

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const URLSAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A small deterministic generator (xorshift64*), so fixtures are the same on every run.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn string(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }

    /// `ghp_` + 30 random + 6 characters of base62 CRC32 (GitHub's checksum).
    pub fn github_pat(&mut self) -> String {
        let body = self.string(ALNUM, 30);
        let check = ferret::matcher::validator::base62(crc32fast::hash(body.as_bytes()), 6);
        format!("ghp_{body}{check}")
    }

    pub fn aws_key_id(&mut self) -> String {
        format!("AKIA{}", self.string(B32, 16))
    }

    pub fn aws_secret(&mut self) -> String {
        self.string(B64, 40)
    }

    pub fn openai(&mut self) -> String {
        format!(
            "sk-proj-{}T3BlbkFJ{}{}",
            self.string(URLSAFE, 74),
            self.string(URLSAFE, 73),
            self.string(ALNUM, 1)
        )
    }

    pub fn anthropic(&mut self) -> String {
        format!("sk-ant-api03-{}AA", self.string(URLSAFE, 93))
    }

    pub fn huggingface(&mut self) -> String {
        format!("hf_{}", self.string(LETTERS, 34))
    }

    pub fn slack_bot(&mut self) -> String {
        format!(
            "xoxb-{}-{}-{}",
            self.string(b"123456789", 11),
            self.string(b"123456789", 12),
            self.string(ALNUM, 24)
        )
    }

    pub fn gitlab(&mut self) -> String {
        format!(
            "glpat-{}{}",
            self.string(URLSAFE, 19),
            self.string(ALNUM, 1)
        )
    }

    pub fn google(&mut self) -> String {
        format!("AIza{}{}", self.string(URLSAFE, 34), self.string(ALNUM, 1))
    }

    pub fn password(&mut self) -> String {
        format!("{}-{}", self.string(ALNUM, 14), self.string(ALNUM, 5))
    }
}
