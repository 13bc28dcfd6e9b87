//! askama's whitespace control, done on the text: every text's leading and trailing ASCII
//! whitespace kept, dropped or minimized as askama's generator does, and every sign (`-`, `+`,
//! `~`) blanked, so that minijinja, which trims Unicode whitespace and knows no `~`, trims
//! nothing.

use std::borrow::Cow;

use crate::lex::{Delimited, Part};

/// askama's whitespace control of a tag side: `+` (or no sign, by default), `-`, `~`; and
/// `#[template(whitespace = "...")]`, the control of every side that has no sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Whitespace {
    /// `+`: kept. Defaults to this.
    #[default]
    Preserve,
    /// `-`: dropped.
    Suppress,
    /// `~`: one `\n` if there is a line break in it, else one space.
    Minimize,
}

impl Whitespace {
    /// The value of `#[template(whitespace = "...")]`: `preserve`, `suppress`, `minimize`.
    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "preserve" => Some(Whitespace::Preserve),
            "suppress" => Some(Whitespace::Suppress),
            "minimize" => Some(Whitespace::Minimize),
            _ => None,
        }
    }

    fn of_sign(sign: u8) -> Option<Self> {
        match sign {
            b'+' => Some(Whitespace::Preserve),
            b'-' => Some(Whitespace::Suppress),
            b'~' => Some(Whitespace::Minimize),
            _ => None,
        }
    }

    fn apply(self, ws: &str) -> &str {
        match self {
            Whitespace::Preserve => ws,
            Whitespace::Suppress => "",
            Whitespace::Minimize if ws.is_empty() => "",
            Whitespace::Minimize if ws.contains('\n') => "\n",
            Whitespace::Minimize => " ",
        }
    }
}

/// The controls of `src`'s parts done: `src` with every sign blanked (a space, so that offsets
/// and lines stay), and the replacements of the texts whose whitespace askama changes, in order.
/// A text left ending with `{` before a tag would open a delimiter in minijinja: refused, with
/// its offset.
pub(super) fn whitespace(
    src: &str,
    parts: &[Part<'_>],
    default: Whitespace,
) -> Result<(String, super::Edits), (usize, String)> {
    let mut blanked = src.as_bytes().to_vec();
    let mut edits = super::Edits::new();
    // The right control of the tag before the text, at first askama's `Preserve`.
    let mut before = Whitespace::Preserve;
    let mut text: Option<(usize, &str)> = None;
    for part in parts {
        let d = match part {
            Part::Text { text: t, start } => {
                text = Some((*start, t));
                continue;
            }
            Part::Comment(d) | Part::Expr(d) | Part::Tag(d) => d,
        };
        let (left, right) = signs(d);
        let left_ws = left.map_or(default, |at| blank(&mut blanked, at));
        if let Some((start, t)) = text.take() {
            edit(start, t, before, Some(left_ws), &mut edits)?;
        }
        before = right.map_or(default, |at| blank(&mut blanked, at));
    }
    if let Some((start, t)) = text {
        edit(start, t, before, None, &mut edits)?;
    }
    let blanked = String::from_utf8(blanked).expect("ASCII signs replaced by spaces");
    Ok((blanked, edits))
}

/// Where the part's signs are: after the opening delimiter, before the closing one.
fn signs(d: &Delimited) -> (Option<usize>, Option<usize>) {
    let open = (d.open_trim != 0).then_some(d.start + 2);
    let close = (d.close_trim != 0).then_some(d.end - 3);
    (open, close)
}

fn blank(bytes: &mut [u8], at: usize) -> Whitespace {
    let ws = Whitespace::of_sign(bytes[at]).expect("a sign");
    bytes[at] = b' ';
    ws
}

/// The text `t` at `start` between a tag whose right control is `before` and one whose left
/// control is `after` (`None`: the template's end), as askama writes it.
fn edit(
    start: usize,
    t: &str,
    before: Whitespace,
    after: Option<Whitespace>,
    edits: &mut super::Edits,
) -> Result<(), (usize, String)> {
    let written: Cow<'_, str> = match t.find(|c: char| !c.is_ascii_whitespace()) {
        // Whitespace alone: dropped after a `-`, else as the next tag says (at the end, as the
        // tag before says).
        None if before == Whitespace::Suppress => "".into(),
        None => after.unwrap_or(before).apply(t).into(),
        Some(lead) => {
            let end = t.trim_ascii_end().len();
            let after = after.unwrap_or(Whitespace::Preserve);
            let (lws, val, rws) = (&t[..lead], &t[lead..end], &t[end..]);
            if val.ends_with('{') && after.apply(rws).is_empty() && !rws.is_empty() {
                return Err((
                    start + end,
                    "a `{` left before a tag by whitespace control".into(),
                ));
            }
            [before.apply(lws), val, after.apply(rws)].concat().into()
        }
    };
    if written != t {
        edits.push((start, start + t.len(), Cow::Owned(written.into_owned())));
    }
    Ok(())
}
