//! Adversarial input through the real handlers, against the emulator (issue #12): the kill
//! switch and the DLQ inspector make no AWS call at all for an input they reject: nothing is
//! stopped, tagged, published, received or deleted. And (issue #17) that the kill switch's
//! stop record, whatever text it is given, is always a tag set Lambda's `TagResource` accepts
//! (tests/moto_ext/README.md, Tags). Pure properties of the parsers, the hook's event parser
//! included, live in functions/guardian/tests/properties_*.rs.

#[path = "../../functions/guardian/tests/common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_lambda::error::ProvideErrorMetadata;
use common::{any_json, check, mutated_samples};
use e2e::handlers::{BOT, DLQ, DlqWorld, KillSwitchWorld};
use e2e::{TestAccount, guarded_function, visible_messages};
use guardian::guarded::GuardedFunctions;
use guardian::killswitch::record::{
    Concurrency, MAX_TAG_VALUE_CHARS, STOP_REASON, StopRecord, tag_value,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

/// Emulator-backed cases: each is a real handler invocation over HTTP.
const EMULATOR_CASES: u32 = 50;

/// Inputs the parser refuses: mutated samples and arbitrary JSON, filtered by `rejected`.
fn rejected_inputs(
    prefix: &'static str,
    rejected: impl Fn(&Value) -> bool + 'static,
) -> BoxedStrategy<Value> {
    prop_oneof![
        3 => mutated_samples(prefix).prop_map(|m| m.value),
        1 => any_json(),
    ]
    .prop_filter("accepted by the parser", move |v| rejected(v))
    .boxed()
}

/// Runs `invoke` on every rejected input and checks the account saw no AWS call.
fn no_calls_for_rejected<F>(
    name: &str,
    acct: &TestAccount,
    rt: &tokio::runtime::Runtime,
    strategy: BoxedStrategy<Value>,
    invoke: F,
) where
    F: Fn(Value) -> Result<(), String>,
{
    check(name, EMULATOR_CASES, strategy, |payload| {
        let before = rt.block_on(acct.control.call_counts());
        let refused = invoke(payload.clone());
        let after = rt.block_on(acct.control.call_counts());
        prop_assert!(
            refused.is_err(),
            "the handler accepted {}",
            common::preview(&payload)
        );
        prop_assert_eq!(
            before,
            after,
            "a rejected input made AWS calls: {}",
            common::preview(&payload)
        );
        Ok::<(), TestCaseError>(())
    });
}

#[test]
fn the_kill_switch_never_acts_on_an_input_it_rejects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = rt.block_on(KillSwitchWorld::new(None, &[]));
    let guarded = GuardedFunctions::new([BOT]);
    let strategy = rejected_inputs("kill-switch-", move |v| {
        guardian::killswitch::request::parse(v, &guarded).is_err()
    });
    no_calls_for_rejected(
        "kill-switch/handler-rejects",
        &world.acct,
        &rt,
        strategy,
        |payload| {
            rt.block_on(world.invoke(payload))
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
    // The function still runs with no stop record: nothing was acted on.
    assert_eq!(rt.block_on(world.held()).0, None);
}

#[test]
fn the_dlq_inspector_never_acts_on_an_input_it_rejects() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let world = rt.block_on(DlqWorld::new(&[]));
    rt.block_on(world.fill_timed_out(1));
    let limit = world.app.config.max_messages_limit;
    // Rejected by the parser, or a purge without the queue name as confirmation.
    let strategy = rejected_inputs("dlq-", move |v| {
        guardian::dlq::request::parse(v, limit).is_err()
            || guardian::dlq::request::parse(v, limit)
                .is_ok_and(|r| guardian::dlq::request::check_purge_confirmed(&r, DLQ).is_err())
    });
    no_calls_for_rejected(
        "dlq/handler-rejects",
        &world.acct,
        &rt,
        strategy,
        |payload| {
            rt.block_on(world.call(payload, Duration::from_secs(30)))
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
    assert_eq!(
        rt.block_on(visible_messages(&world.cfg, &world.dlq)),
        1,
        "the DLQ message is untouched"
    );
}

// ------------------------------------------------------------------ tag values (issue #17)

/// Stop records tagged per property: each case is a real `TagResource` on a real function.
const TAG_CASES: u32 = 256;
/// Raw values the emulator must refuse.
const RAW_CASES: u32 = 64;

/// Combining marks (Mn, Mc, Me): Devanagari vowel signs and virama, Arabic harakat, Latin
/// accents, the enclosing circle, the emoji variation selector.
const MARKS: &[char] = &[
    '\u{0301}', '\u{0308}', '\u{0327}', '\u{093E}', '\u{093F}', '\u{0940}', '\u{094D}', '\u{0902}',
    '\u{064E}', '\u{064F}', '\u{0650}', '\u{0651}', '\u{0652}', '\u{05B7}', '\u{0E31}', '\u{20DD}',
    '\u{FE0F}', '\u{1AB0}',
];
/// Symbols (Sm, Sc, Sk, So) and punctuation Lambda's pattern leaves out.
const SYMBOLS: &[char] = &[
    '€',
    '$',
    '£',
    '¥',
    '↓',
    '→',
    '%',
    '©',
    '™',
    '°',
    '±',
    '∑',
    '√',
    '∞',
    '^',
    '`',
    '|',
    '~',
    '<',
    '>',
    '!',
    '?',
    '#',
    '&',
    '*',
    '(',
    ')',
    ',',
    ';',
    '"',
    '\'',
    '\\',
    '§',
    '¶',
    '✓',
    '★',
    '\u{1F3FB}',
];
/// Controls, format characters (zero-width, bidi embeddings and isolates, BOM, soft hyphen),
/// private use, the replacement character.
const CONTROLS: &[char] = &[
    '\0', '\u{1}', '\t', '\n', '\r', '\u{b}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{ad}',
    '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}',
    '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{feff}', '\u{e000}',
    '\u{fffd}',
];
/// Whitespace and separators other than the space.
const SPACES: &[char] = &[
    ' ', '\u{a0}', '\u{1680}', '\u{2000}', '\u{2003}', '\u{2009}', '\u{200a}', '\u{2028}',
    '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
];
/// Letters and numbers outside ASCII the pattern accepts: titlecase and modifier letters,
/// other numbers (superscripts, fractions, circled, Roman numerals), fullwidth and
/// mathematical (outside the BMP) letters.
const OTHER_LETTERS: &[char] = &[
    'ǅ', 'ʰ', 'ª', 'ß', 'Ж', 'λ', 'ñ', '²', '½', '①', 'Ⅻ', '٣', '߃', 'Ａ', '１', '𝐀', '𝟘', '中',
    '한', 'ア', 'ก', 'ᐁ', 'ⴰ',
];

fn pick(chars: &'static [char]) -> BoxedStrategy<char> {
    proptest::sample::select(chars).boxed()
}

/// Code points that are letters or numbers in Unicode 16.0 (the regex crate's tables) but were
/// assigned after Unicode 14.0, the emulator's database (Python 3.11's `unicodedata`):
/// Egyptian hieroglyphs Ext-A, CJK Ext-H and Ext-I, Kawi, Garay, ... The emulator refuses
/// them, and so would AWS if its validator's Unicode is older (not documented): `tag_value`
/// keeps only characters Unicode 13.0 assigned, so they become spaces. Tested apart, by
/// `stop_records_with_letters_newer_than_unicode_14_are_accepted`, to be sure they come up.
const NEWER_THAN_UNICODE_14: [(u32, u32); 43] = [
    (0x1C89, 0x1C8A),
    (0xA7CB, 0xA7CD),
    (0xA7DA, 0xA7DC),
    (0x105C0, 0x105F3),
    (0x10D40, 0x10D65),
    (0x10D6F, 0x10D85),
    (0x10EC2, 0x10EC4),
    (0x1123F, 0x11240),
    (0x11380, 0x11389),
    (0x1138B, 0x1138B),
    (0x1138E, 0x1138E),
    (0x11390, 0x113B5),
    (0x113B7, 0x113B7),
    (0x113D1, 0x113D1),
    (0x113D3, 0x113D3),
    (0x116D0, 0x116E3),
    (0x11BC0, 0x11BE0),
    (0x11BF0, 0x11BF9),
    (0x11F02, 0x11F02),
    (0x11F04, 0x11F10),
    (0x11F12, 0x11F33),
    (0x11F50, 0x11F59),
    (0x1342F, 0x1342F),
    (0x13441, 0x13446),
    (0x13460, 0x143FA),
    (0x16100, 0x1611D),
    (0x16130, 0x16139),
    (0x16D40, 0x16D6C),
    (0x16D70, 0x16D79),
    (0x18CFF, 0x18CFF),
    (0x1B132, 0x1B132),
    (0x1B155, 0x1B155),
    (0x1CCF0, 0x1CCF9),
    (0x1D2C0, 0x1D2D3),
    (0x1DF25, 0x1DF2A),
    (0x1E030, 0x1E06D),
    (0x1E4D0, 0x1E4EB),
    (0x1E4F0, 0x1E4F9),
    (0x1E5D0, 0x1E5ED),
    (0x1E5F0, 0x1E5FA),
    (0x2B739, 0x2B739),
    (0x2EBF0, 0x2EE5D),
    (0x31350, 0x323AF),
];

fn newer_than_unicode_14(c: char) -> bool {
    let c = c as u32;
    NEWER_THAN_UNICODE_14
        .iter()
        .any(|&(low, high)| (low..=high).contains(&c))
}

/// One character of text an operator, an alarm name or a pasted log line can hold (any
/// character Unicode 14.0 knows of, and unassigned ones).
fn text_char() -> BoxedStrategy<char> {
    prop_oneof![
        4 => any::<char>(),
        4 => proptest::char::range(' ', '~'),
        2 => pick(MARKS),
        2 => pick(SYMBOLS),
        2 => pick(CONTROLS),
        1 => pick(SPACES),
        1 => pick(OTHER_LETTERS),
        // Emoji (So), with skin tones and ZWJ sequences among the controls and symbols.
        1 => proptest::char::range('\u{1F300}', '\u{1F64F}'),
        1 => proptest::char::range('\u{1F900}', '\u{1F9FF}'),
        // Right-to-left: Hebrew and Arabic letters, Arabic-Indic digits.
        1 => proptest::char::range('\u{05D0}', '\u{05EA}'),
        1 => proptest::char::range('\u{0621}', '\u{064A}'),
        1 => proptest::char::range('\u{0660}', '\u{0669}'),
        // Devanagari letters (their marks are in MARKS), CJK, Hangul.
        1 => proptest::char::range('\u{0905}', '\u{0939}'),
        1 => proptest::char::range('\u{4E00}', '\u{9FFF}'),
        1 => proptest::char::range('\u{AC00}', '\u{D7A3}'),
    ]
    .prop_filter("assigned after Unicode 14.0", |c| {
        !newer_than_unicode_14(*c)
    })
    .boxed()
}

/// Arbitrary text of `chars`: mostly short, some far past Lambda's 256-character value limit.
fn unicode_text(chars: BoxedStrategy<char>) -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::collection::vec(chars.clone(), 0..80),
        1 => prop::collection::vec(chars, 200..700),
    ]
    .prop_map(|chars| chars.into_iter().collect())
    .boxed()
}

/// `(code, message)` of an SDK error.
fn refusal<E: ProvideErrorMetadata>(e: &E) -> String {
    format!(
        "{}: {}",
        e.code().unwrap_or("?"),
        e.message().unwrap_or_default()
    )
}

/// A function to tag, in a fresh account: `(runtime, client, function ARN)`.
fn tagging_target() -> (tokio::runtime::Runtime, aws_sdk_lambda::Client, String) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (lambda, arn) = rt.block_on(async {
        let acct = TestAccount::new();
        let cfg = acct.sdk_config().await;
        let arn = guarded_function(&cfg, BOT, 0).await;
        (aws_sdk_lambda::Client::new(&cfg), arn)
    });
    (rt, lambda, arn)
}

#[test]
fn stop_records_of_any_text_are_tags_lambda_accepts() {
    let text = unicode_text(text_char());
    stop_records_are_accepted(
        "killswitch/stop-record-tags",
        TAG_CASES,
        (text.clone(), text),
    );
}

/// Letters Unicode 14.0 does not know (the emulator's database) become spaces in the stop
/// record: `tag_value` keeps only what Unicode 13.0 assigned.
#[test]
fn stop_records_with_letters_newer_than_unicode_14_are_accepted() {
    let newer = proptest::sample::select(NEWER_THAN_UNICODE_14.to_vec())
        .prop_flat_map(|(low, high)| low..=high)
        .prop_filter_map("a scalar value", char::from_u32)
        .boxed();
    let mixed = prop_oneof![1 => newer, 2 => proptest::char::range('a', 'z')].boxed();
    let text = unicode_text(mixed);
    stop_records_are_accepted(
        "killswitch/stop-record-tags-newer",
        32,
        (text.clone(), text),
    );
}

/// `TagResource` of the stop record the kill switch writes for each `(reason, requested_by)`
/// is accepted, and `ListTags` gives back exactly what was written.
fn stop_records_are_accepted(
    name: &str,
    cases: u32,
    strategy: (BoxedStrategy<String>, BoxedStrategy<String>),
) {
    let (rt, lambda, arn) = tagging_target();
    check(name, cases, strategy, |(reason, by)| {
        let record = StopRecord {
            stopped_at: "2026-03-01T03:04:05Z".into(),
            stopped_by: by.clone(),
            reason: reason.clone(),
            previous: Concurrency::Reserved(5),
        };
        // What the kill switch's stop writes: tag_value() of each text.
        let tags: HashMap<String, String> = record.to_tags().into_iter().collect();
        for value in tags.values() {
            prop_assert!(value.chars().count() <= MAX_TAG_VALUE_CHARS);
        }
        let tagged = rt.block_on(
            lambda
                .tag_resource()
                .resource(&arn)
                .set_tags(Some(tags.clone()))
                .send(),
        );
        if let Err(e) = &tagged {
            return Err(TestCaseError::fail(format!(
                "Lambda refused the stop record of reason {reason:?} by {by:?}: {}; tags {tags:?}",
                refusal(e)
            )));
        }
        // Kept exactly as sent: what `status` and `resume` read back is what was written.
        let stored: BTreeMap<String, String> = rt
            .block_on(lambda.list_tags().resource(&arn).send())
            .map_err(|e| TestCaseError::fail(refusal(&e)))?
            .tags
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| tags.contains_key(k))
            .collect();
        prop_assert_eq!(stored, tags.into_iter().collect::<BTreeMap<_, _>>());
        Ok(())
    });
}

/// Text of letters and spaces with at least one combining mark or symbol in it, never longer
/// than Lambda's limit: only the characters can be why Lambda refuses it.
fn raw_text_with_mark_or_symbol() -> BoxedStrategy<String> {
    let letters = prop::collection::vec(
        prop_oneof![
            3 => proptest::char::range('a', 'z'),
            1 => pick(OTHER_LETTERS),
            1 => Just(' '),
        ],
        0..60,
    );
    let culprit = prop_oneof![pick(MARKS), pick(SYMBOLS)];
    (letters.clone(), culprit, letters)
        .prop_map(|(a, c, b)| {
            a.into_iter()
                .chain(std::iter::once(c))
                .chain(b)
                .collect::<String>()
        })
        .boxed()
}

#[test]
fn lambda_refuses_raw_text_with_a_combining_mark_or_symbol_naming_the_tag() {
    let (rt, lambda, arn) = tagging_target();
    const SAMPLES: [&str; 5] = ["नमस्ते", "مَرْحَبًا", "fills ↓ 5% €", "deploy 🚀", "cafe\u{301}"];
    let strategy = prop_oneof![
        1 => proptest::sample::select(&SAMPLES[..]).prop_map(str::to_string),
        4 => raw_text_with_mark_or_symbol(),
    ];
    check("killswitch/raw-tag-refused", RAW_CASES, strategy, |raw| {
        let refused = rt.block_on(
            lambda
                .tag_resource()
                .resource(&arn)
                .tags(STOP_REASON, &raw)
                .send(),
        );
        let e = match refused {
            Ok(_) => {
                return Err(TestCaseError::fail(format!(
                    "Lambda accepted the raw value {raw:?}"
                )));
            }
            Err(e) => e,
        };
        prop_assert_eq!(e.code(), Some("ValidationException"), "{}", refusal(&e));
        let message = e.message().unwrap_or_default();
        prop_assert!(
            message.contains(STOP_REASON) && message.contains("Map value must satisfy constraint"),
            "the refusal names neither the tag nor the constraint: {}",
            message
        );
        // The sanitised text is accepted in its place.
        let value = tag_value(&raw);
        let fixed = rt.block_on(
            lambda
                .tag_resource()
                .resource(&arn)
                .tags(STOP_REASON, &value)
                .send(),
        );
        prop_assert!(
            fixed.is_ok(),
            "tag_value({:?}) = {:?} refused: {}",
            raw,
            value,
            fixed.as_ref().err().map(refusal).unwrap_or_default()
        );
        Ok(())
    });
}
