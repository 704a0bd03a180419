//! Every committed event reached JetStream exactly once: the service's
//! stream, read whole, against its outbox. The relay names each message
//! `Nats-Msg-Id: <service>-<position>`, so the stream must hold one message
//! for each position from 1 to the outbox's last, on the subject of the
//! event's type, and no other.

use std::collections::BTreeMap;

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};

use crate::faults::report::Finding;

/// Messages asked for at once.
const AT_ONCE: usize = 32;

/// What the stream holds, by position: its subjects (more than one: a
/// message published twice).
async fn read(
    nats_url: &str,
    stream: &str,
    service: &str,
) -> anyhow::Result<(BTreeMap<i64, Vec<String>>, Vec<String>)> {
    let client = async_nats::connect(nats_url)
        .await
        .with_context(|| format!("connecting to NATS at {nats_url}"))?;
    let js = async_nats::jetstream::new(client);
    let mut handle = js
        .get_stream(stream)
        .await
        .with_context(|| format!("no stream {stream}"))?;
    let info = handle.info().await?;
    let (first, last) = (info.state.first_sequence, info.state.last_sequence);
    let messages: Vec<_> = futures_util::stream::iter(first..=last)
        .map(|seq| {
            let handle = handle.clone();
            async move { handle.get_raw_message(seq).await }
        })
        .buffered(AT_ONCE)
        .try_collect()
        .await
        .with_context(|| format!("reading {stream}"))?;
    let prefix = format!("{service}-");
    let mut by_position: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut strangers = Vec::new();
    for message in messages {
        let id = message
            .headers
            .get("Nats-Msg-Id")
            .map(|v| v.as_str().to_owned())
            .unwrap_or_default();
        match id.strip_prefix(&prefix).and_then(|p| p.parse::<i64>().ok()) {
            Some(position) => by_position
                .entry(position)
                .or_default()
                .push(message.subject.to_string()),
            None => strangers.push(format!("{id:?} on {}", message.subject)),
        }
    }
    Ok((by_position, strangers))
}

/// The finding for one service, from its outbox's (position, event type).
pub async fn exactly_once(nats_url: &str, service: &str, outbox: &[(i64, String)]) -> Finding {
    let stream = format!("KURSI_{}", service.to_ascii_uppercase());
    let check = format!("{service} events in JetStream");
    let (held, strangers) = match read(nats_url, &stream, service).await {
        Ok(read) => read,
        Err(err) => return Finding::new(check, false, format!("{err:#}")),
    };
    let problems = compare(service, outbox, &held, &strangers);
    if problems.is_empty() {
        let detail = format!(
            "{} events, each once in {stream} on its subject",
            outbox.len()
        );
        Finding::new(check, true, detail)
    } else {
        Finding::new(check, false, problems.join("; "))
    }
}

/// What is wrong between the outbox and the stream, in words.
pub fn compare(
    service: &str,
    outbox: &[(i64, String)],
    held: &BTreeMap<i64, Vec<String>>,
    strangers: &[String],
) -> Vec<String> {
    let mut missing = Vec::new();
    let mut twice = Vec::new();
    let mut misfiled = Vec::new();
    for (position, event_type) in outbox {
        let subject = format!("kursi.{service}.v1.{event_type}");
        match held.get(position).map(Vec::as_slice) {
            None | Some([]) => missing.push(*position),
            Some([one]) if *one == subject => {}
            Some([one]) => misfiled.push(format!("{position} on {one}, not {subject}")),
            Some(_) => twice.push(*position),
        }
    }
    let known: std::collections::BTreeSet<i64> = outbox.iter().map(|(p, _)| *p).collect();
    let extra: Vec<i64> = held
        .keys()
        .filter(|p| !known.contains(p))
        .copied()
        .collect();
    let mut problems = Vec::new();
    let mut say = |what: &str, list: Vec<String>| {
        if !list.is_empty() {
            let n = list.len();
            let sample: Vec<String> = list.into_iter().take(5).collect();
            problems.push(format!("{n} {what} ({})", sample.join(", ")));
        }
    };
    let positions = |list: Vec<i64>| list.iter().map(i64::to_string).collect();
    say("events missing from the stream", positions(missing));
    say("events in the stream more than once", positions(twice));
    say("events on the wrong subject", misfiled);
    say("messages of no event in the outbox", positions(extra));
    say(
        "messages without a Nats-Msg-Id of this service",
        strangers.to_vec(),
    );
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_must_hold_each_event_once_on_its_subject() {
        let outbox = vec![
            (1, "created".to_owned()),
            (2, "paid".to_owned()),
            (3, "cancelled".to_owned()),
        ];
        let mut held = BTreeMap::new();
        held.insert(1, vec!["kursi.order.v1.created".to_owned()]);
        held.insert(2, vec!["kursi.order.v1.paid".to_owned()]);
        held.insert(3, vec!["kursi.order.v1.cancelled".to_owned()]);
        assert!(compare("order", &outbox, &held, &[]).is_empty());

        held.insert(
            2,
            vec![
                "kursi.order.v1.paid".to_owned(),
                "kursi.order.v1.paid".to_owned(),
            ],
        );
        held.remove(&3);
        held.insert(9, vec!["kursi.order.v1.created".to_owned()]);
        let problems = compare("order", &outbox, &held, &["\"x\" on y".to_owned()]);
        assert_eq!(
            problems,
            [
                "1 events missing from the stream (3)",
                "1 events in the stream more than once (2)",
                "1 messages of no event in the outbox (9)",
                "1 messages without a Nats-Msg-Id of this service (\"x\" on y)",
            ]
        );
    }
}
