//! Splits a shell script into words, operators and redirections (POSIX-ish quoting rules).

use std::fmt;

/// One piece of a word; expansions remember whether they were inside double quotes, since only
/// unquoted expansions are split into fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Unquoted literal text.
    Lit(String),
    /// Literal text from quotes or a backslash escape.
    Quoted(String),
    Var {
        name: String,
        default: Option<Default>,
        quoted: bool,
    },
    /// `$(…)` or `` `…` ``: the inner script, run when expanded.
    Subst { script: String, quoted: bool },
    /// `$((…))`.
    Arith { expr: String, quoted: bool },
}

/// `${NAME:-word}` (`colon`: also when empty) and friends.
#[derive(Debug, Clone, PartialEq)]
pub struct Default {
    pub op: char,
    pub colon: bool,
    pub word: Vec<Part>,
}

pub type Word = Vec<Part>;

/// The literal text of a word made only of unquoted literal text (reserved words, names).
pub fn plain_text(word: &Word) -> Option<&str> {
    match word.as_slice() {
        [Part::Lit(text)] => Some(text),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    Semi,
    Newline,
    Amp,
    And,
    Or,
    Pipe,
    LParen,
    RParen,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RedirKind {
    /// `>`
    Out,
    /// `>>`
    Append,
    /// `<`
    In,
    /// `>&N` / `<&N`: the target word names a descriptor.
    Dup,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Token {
    Word(Word),
    Op(Op),
    Redir { fd: u32, kind: RedirKind },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LexError(pub String);

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn tokenize(script: &str) -> Result<Vec<Token>, LexError> {
    Lexer {
        chars: script.chars().collect(),
        pos: 0,
    }
    .run()
}

/// Lexes the inside of double quotes (also used for `${X:-default}` words).
fn quoted_parts(text: &str) -> Result<Vec<Part>, LexError> {
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        pos: 0,
    };
    let mut parts = Vec::new();
    let mut literal = String::new();
    while let Some(c) = lexer.peek() {
        lexer.pos += 1;
        if c == '\\' && matches!(lexer.peek(), Some('$' | '`' | '"' | '\\')) {
            literal.push(lexer.bump());
        } else if c == '$' || c == '`' {
            lexer.pos -= 1;
            match lexer.expansion(true)? {
                Some(part) => {
                    flush(&mut parts, &mut literal, true);
                    parts.push(part);
                }
                None => literal.push(lexer.bump()),
            }
        } else {
            literal.push(c);
        }
    }
    flush(&mut parts, &mut literal, true);
    Ok(parts)
}

fn flush(parts: &mut Vec<Part>, literal: &mut String, quoted: bool) {
    if !literal.is_empty() {
        let text = std::mem::take(literal);
        parts.push(if quoted {
            Part::Quoted(text)
        } else {
            Part::Lit(text)
        });
    }
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> char {
        let c = self.chars[self.pos];
        self.pos += 1;
        c
    }

    fn run(mut self) -> Result<Vec<Token>, LexError> {
        let mut tokens = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => self.pos += 1,
                '\\' if self.peek_at(1) == Some('\n') => self.pos += 2,
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '\n' => {
                    self.pos += 1;
                    tokens.push(Token::Op(Op::Newline));
                }
                ';' => {
                    self.pos += 1;
                    tokens.push(Token::Op(Op::Semi));
                }
                '&' | '|' => {
                    self.pos += 1;
                    let doubled = self.peek() == Some(c);
                    if doubled {
                        self.pos += 1;
                    }
                    tokens.push(Token::Op(match (c, doubled) {
                        ('&', true) => Op::And,
                        ('&', false) => Op::Amp,
                        ('|', true) => Op::Or,
                        _ => Op::Pipe,
                    }));
                }
                '(' => {
                    self.pos += 1;
                    tokens.push(Token::Op(Op::LParen));
                }
                ')' => {
                    self.pos += 1;
                    tokens.push(Token::Op(Op::RParen));
                }
                '<' | '>' => tokens.push(self.redirection(None)),
                _ => {
                    let word = self.word()?;
                    // `2>file`: a word of digits right before `<`/`>` is a descriptor number.
                    let fd = match (plain_text(&word), self.peek()) {
                        (Some(digits), Some('<' | '>'))
                            if digits.chars().all(|c| c.is_ascii_digit()) =>
                        {
                            digits.parse().ok()
                        }
                        _ => None,
                    };
                    match fd {
                        Some(fd) => tokens.push(self.redirection(Some(fd))),
                        None => tokens.push(Token::Word(word)),
                    }
                }
            }
        }
        Ok(tokens)
    }

    fn redirection(&mut self, fd: Option<u32>) -> Token {
        let first = self.bump();
        let kind = match (first, self.peek()) {
            ('>', Some('>')) => {
                self.pos += 1;
                RedirKind::Append
            }
            (_, Some('&')) => {
                self.pos += 1;
                RedirKind::Dup
            }
            ('>', Some('|')) => {
                self.pos += 1;
                RedirKind::Out
            }
            ('>', _) => RedirKind::Out,
            _ => RedirKind::In,
        };
        let default_fd = if first == '>' { 1 } else { 0 };
        Token::Redir {
            fd: fd.unwrap_or(default_fd),
            kind,
        }
    }

    fn word(&mut self) -> Result<Word, LexError> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' | ';' | '&' | '|' | '(' | ')' | '<' | '>' => break,
                '\\' => {
                    self.pos += 1;
                    match self.peek() {
                        Some('\n') => self.pos += 1,
                        Some(_) => {
                            flush(&mut parts, &mut literal, false);
                            parts.push(Part::Quoted(self.bump().to_string()));
                        }
                        None => literal.push('\\'),
                    }
                }
                '\'' => {
                    self.pos += 1;
                    let start = self.pos;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                    if self.peek().is_none() {
                        return Err(LexError("unterminated quoted string".into()));
                    }
                    let text: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 1;
                    flush(&mut parts, &mut literal, false);
                    parts.push(Part::Quoted(text));
                }
                '"' => {
                    self.pos += 1;
                    let start = self.pos;
                    self.skip_double_quoted()?;
                    let text: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 1;
                    flush(&mut parts, &mut literal, false);
                    let inner = quoted_parts(&text)?;
                    if inner.is_empty() {
                        parts.push(Part::Quoted(String::new()));
                    }
                    parts.extend(inner);
                }
                '$' | '`' => match self.expansion(false)? {
                    Some(part) => {
                        flush(&mut parts, &mut literal, false);
                        parts.push(part);
                    }
                    None => literal.push(self.bump()),
                },
                _ => literal.push(self.bump()),
            }
        }
        flush(&mut parts, &mut literal, false);
        Ok(parts)
    }

    /// Moves to the closing `"` (not consumed), honouring escapes and nested `$(…)`.
    fn skip_double_quoted(&mut self) -> Result<(), LexError> {
        loop {
            match self.peek() {
                None => return Err(LexError("unterminated quoted string".into())),
                Some('"') => return Ok(()),
                Some('\\') => self.pos += 2,
                Some('$') if self.peek_at(1) == Some('(') => {
                    self.pos += 1;
                    self.balanced('(', ')')?;
                }
                Some('`') => {
                    self.pos += 1;
                    self.until_backtick()?;
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    /// At `$` or `` ` ``: parses one expansion, or `None` when the `$` is literal.
    fn expansion(&mut self, quoted: bool) -> Result<Option<Part>, LexError> {
        if self.bump() == '`' {
            let script = self.until_backtick()?;
            return Ok(Some(Part::Subst { script, quoted }));
        }
        let Some(next) = self.peek() else {
            self.pos -= 1;
            return Ok(None);
        };
        let part = match next {
            '(' if self.peek_at(1) == Some('(') => {
                let inner = self.balanced('(', ')')?;
                match inner.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
                    Some(expr) => Part::Arith {
                        expr: expr.to_string(),
                        quoted,
                    },
                    None => return Err(LexError("bad arithmetic expansion".into())),
                }
            }
            '(' => Part::Subst {
                script: self.balanced('(', ')')?,
                quoted,
            },
            '{' => self.braced(quoted)?,
            '?' | '$' | '#' | '@' | '*' | '!' | '-' | '0'..='9' => {
                self.pos += 1;
                Part::Var {
                    name: next.to_string(),
                    default: None,
                    quoted,
                }
            }
            c if c == '_' || c.is_ascii_alphabetic() => {
                let name = self.name();
                Part::Var {
                    name,
                    default: None,
                    quoted,
                }
            }
            _ => {
                self.pos -= 1;
                return Ok(None);
            }
        };
        Ok(Some(part))
    }

    fn name(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c == '_' || c.is_ascii_alphanumeric())
        {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    /// `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:=word}`, `${NAME:+word}`, `${#NAME}`.
    fn braced(&mut self, quoted: bool) -> Result<Part, LexError> {
        let inner = self.balanced('{', '}')?;
        let bad = || LexError(format!("${{{inner}}}: bad substitution"));
        if let Some(name) = inner.strip_prefix('#').filter(|n| !n.is_empty()) {
            return Ok(Part::Var {
                name: format!("#{name}"),
                default: None,
                quoted,
            });
        }
        let name_len = inner
            .char_indices()
            .find(|&(i, c)| {
                !(c == '_' || c.is_ascii_alphanumeric() || (i == 0 && "?$#@*!".contains(c)))
            })
            .map_or(inner.len(), |(i, _)| i);
        let name_len = if name_len == 0 && !inner.is_empty() {
            1
        } else {
            name_len
        };
        let (name, rest) = inner.split_at(name_len);
        if name.is_empty() {
            return Err(bad());
        }
        if rest.is_empty() {
            return Ok(Part::Var {
                name: name.into(),
                default: None,
                quoted,
            });
        }
        let (colon, rest) = match rest.strip_prefix(':') {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let mut chars = rest.chars();
        let op = chars
            .next()
            .filter(|op| "-=+?".contains(*op))
            .ok_or_else(bad)?;
        let word = quoted_parts(chars.as_str())?;
        Ok(Part::Var {
            name: name.into(),
            default: Some(Default { op, colon, word }),
            quoted,
        })
    }

    /// At an opening bracket: returns the text up to its matching close (both consumed).
    fn balanced(&mut self, open: char, close: char) -> Result<String, LexError> {
        self.pos += 1;
        let start = self.pos;
        let mut depth = 1;
        while let Some(c) = self.peek() {
            match c {
                '\\' => self.pos += 1,
                '\'' if open == '(' => {
                    self.pos += 1;
                    while self.peek().is_some_and(|c| c != '\'') {
                        self.pos += 1;
                    }
                }
                _ if c == open => depth += 1,
                _ if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        let text = self.chars[start..self.pos].iter().collect();
                        self.pos += 1;
                        return Ok(text);
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(LexError(format!("missing '{close}'")))
    }

    fn until_backtick(&mut self) -> Result<String, LexError> {
        let mut text = String::new();
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '`' => return Ok(text),
                '\\' if matches!(self.peek(), Some('`' | '\\' | '$')) => text.push(self.bump()),
                _ => text.push(c),
            }
        }
        Err(LexError("unterminated `".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(text: &str) -> Part {
        Part::Lit(text.into())
    }

    #[test]
    fn splits_words_and_operators() {
        let tokens = tokenize("touch /tmp/a; cat x && echo y || false\n").unwrap();
        assert_eq!(
            tokens,
            vec![
                Token::Word(vec![lit("touch")]),
                Token::Word(vec![lit("/tmp/a")]),
                Token::Op(Op::Semi),
                Token::Word(vec![lit("cat")]),
                Token::Word(vec![lit("x")]),
                Token::Op(Op::And),
                Token::Word(vec![lit("echo")]),
                Token::Word(vec![lit("y")]),
                Token::Op(Op::Or),
                Token::Word(vec![lit("false")]),
                Token::Op(Op::Newline),
            ]
        );
    }

    #[test]
    fn quotes_and_variables() {
        let tokens = tokenize(r#"echo 'a $B' "c $D ${E}" $?"#).unwrap();
        assert_eq!(tokens[1], Token::Word(vec![Part::Quoted("a $B".into())]));
        assert_eq!(
            tokens[2],
            Token::Word(vec![
                Part::Quoted("c ".into()),
                Part::Var {
                    name: "D".into(),
                    default: None,
                    quoted: true
                },
                Part::Quoted(" ".into()),
                Part::Var {
                    name: "E".into(),
                    default: None,
                    quoted: true
                },
            ])
        );
        assert_eq!(
            tokens[3],
            Token::Word(vec![Part::Var {
                name: "?".into(),
                default: None,
                quoted: false
            }])
        );
    }

    #[test]
    fn redirections_with_descriptors() {
        let tokens = tokenize("echo hi >> /tmp/log 2>&1 2>/dev/null >x").unwrap();
        assert_eq!(
            tokens[2],
            Token::Redir {
                fd: 1,
                kind: RedirKind::Append
            }
        );
        assert_eq!(
            tokens[4],
            Token::Redir {
                fd: 2,
                kind: RedirKind::Dup
            }
        );
        assert_eq!(tokens[5], Token::Word(vec![lit("1")]));
        assert_eq!(
            tokens[6],
            Token::Redir {
                fd: 2,
                kind: RedirKind::Out
            }
        );
        assert_eq!(
            tokens[8],
            Token::Redir {
                fd: 1,
                kind: RedirKind::Out
            }
        );
    }

    #[test]
    fn comments_are_skipped_but_hash_inside_words_is_kept() {
        let tokens = tokenize("echo a#b # comment ; rm x\necho").unwrap();
        assert_eq!(tokens[1], Token::Word(vec![lit("a#b")]));
        assert_eq!(tokens[2], Token::Op(Op::Newline));
        assert_eq!(tokens.len(), 4);
    }

    #[test]
    fn substitutions_and_defaults() {
        let tokens = tokenize("echo $(date +%s) `pwd` $((1 + 2)) ${X:-none}").unwrap();
        assert_eq!(
            tokens[1],
            Token::Word(vec![Part::Subst {
                script: "date +%s".into(),
                quoted: false
            }])
        );
        assert_eq!(
            tokens[2],
            Token::Word(vec![Part::Subst {
                script: "pwd".into(),
                quoted: false
            }])
        );
        assert_eq!(
            tokens[3],
            Token::Word(vec![Part::Arith {
                expr: "1 + 2".into(),
                quoted: false
            }])
        );
        let Token::Word(word) = &tokens[4] else {
            panic!("not a word")
        };
        let Part::Var {
            default: Some(default),
            ..
        } = &word[0]
        else {
            panic!("no default")
        };
        assert_eq!((default.op, default.colon), ('-', true));
        assert_eq!(default.word, vec![Part::Quoted("none".into())]);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert!(tokenize("echo 'oops").is_err());
        assert!(tokenize("echo \"oops").is_err());
    }
}
