//! Grouping publications into `PublishBatch` requests: at most 10 entries, and at most
//! 256 KB for the whole request (SNS's limit applies to the batch's aggregate payload).

use crate::publication::Publication;
use crate::sns_text::MAX_MESSAGE_BYTES;

pub const MAX_BATCH_ENTRIES: usize = 10;

/// What a publication counts against SNS's size limit: message, subject and attributes.
pub fn payload_bytes(p: &Publication) -> usize {
    p.message.len()
        + p.subject.as_ref().map_or(0, String::len)
        + p.attributes
            .iter()
            .map(|(k, v)| k.len() + v.len() + "String".len())
            .sum::<usize>()
}

/// Consecutive groups of indices into `sizes`, each within both limits. Order is kept,
/// and the number of groups is the minimum for that order: `ceil(n / 10)` when the
/// entries are small.
pub fn plan(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_bytes = 0;
    for (i, &size) in sizes.iter().enumerate() {
        let full = current.len() == MAX_BATCH_ENTRIES || current_bytes + size > MAX_MESSAGE_BYTES;
        if full && !current.is_empty() {
            groups.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current.push(i);
        current_bytes += size;
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_entries_go_ten_at_a_time() {
        let groups = plan(&[100; 25]);
        assert_eq!(
            groups.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![10, 10, 5]
        );
        assert_eq!(groups.concat(), (0..25).collect::<Vec<_>>());
        assert!(plan(&[]).is_empty());
    }

    #[test]
    fn large_entries_split_by_aggregate_size() {
        let big = MAX_MESSAGE_BYTES / 2 - 10;
        let groups = plan(&[big, big, big, 10]);
        assert_eq!(groups, vec![vec![0, 1], vec![2, 3]]);
        for g in plan(&[200_000, 100_000, 250_000]) {
            assert_eq!(g.len(), 1);
        }
    }
}
