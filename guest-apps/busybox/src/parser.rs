//! Builds the command tree: lists of and-or chains of pipelines of simple or compound commands.

use crate::lexer::{plain_text, tokenize, Op, RedirKind, Token, Word};
use std::fmt;

pub type List = Vec<AndOr>;

#[derive(Debug, Clone, PartialEq)]
pub struct AndOr {
    pub first: Pipeline,
    pub rest: Vec<(Connector, Pipeline)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Connector {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub negated: bool,
    pub commands: Vec<Command>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub kind: CommandKind,
    pub redirects: Vec<Redirect>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub fd: u32,
    pub kind: RedirKind,
    pub target: Word,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    Simple {
        assignments: Vec<(String, Word)>,
        words: Vec<Word>,
    },
    If {
        branches: Vec<(List, List)>,
        otherwise: Option<List>,
    },
    Loop {
        until: bool,
        condition: List,
        body: List,
    },
    For {
        variable: String,
        items: Option<Vec<Word>>,
        body: List,
    },
    Group(List),
    Subshell(List),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError(pub String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn parse(script: &str) -> Result<List, ParseError> {
    let tokens = tokenize(script).map_err(|error| ParseError(error.0))?;
    let mut parser = Parser { tokens, pos: 0 };
    let list = parser.list(&[])?;
    match parser.tokens.get(parser.pos) {
        None => Ok(list),
        Some(token) => Err(parser.unexpected(token)),
    }
}

const RESERVED: &[&str] = &[
    "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "in", "{", "}", "!",
];

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_reserved(&self) -> Option<&str> {
        match self.peek() {
            Some(Token::Word(word)) => plain_text(word).filter(|text| RESERVED.contains(text)),
            _ => None,
        }
    }

    fn unexpected(&self, token: &Token) -> ParseError {
        let text = match token {
            Token::Word(word) => plain_text(word).unwrap_or("word").to_string(),
            Token::Op(Op::Semi) => ";".into(),
            Token::Op(Op::Newline) => "newline".into(),
            Token::Op(Op::Amp) => "&".into(),
            Token::Op(Op::And) => "&&".into(),
            Token::Op(Op::Or) => "||".into(),
            Token::Op(Op::Pipe) => "|".into(),
            Token::Op(Op::LParen) => "(".into(),
            Token::Op(Op::RParen) => ")".into(),
            Token::Redir { .. } => "redirection".into(),
        };
        ParseError(format!("syntax error: unexpected {text}"))
    }

    fn end_of_input(&self) -> ParseError {
        ParseError("syntax error: unexpected end of file".into())
    }

    fn skip_newlines(&mut self) {
        while self.peek() == Some(&Token::Op(Op::Newline)) {
            self.pos += 1;
        }
    }

    fn expect_reserved(&mut self, word: &str) -> Result<(), ParseError> {
        match self.peek() {
            _ if self.peek_reserved() == Some(word) => {
                self.pos += 1;
                Ok(())
            }
            Some(token) => Err(self.unexpected(token)),
            None => Err(self.end_of_input()),
        }
    }

    /// Parses and-or chains separated by `;`, `&` or newlines, stopping before any of
    /// `terminators` (reserved words), `)` or the end.
    fn list(&mut self, terminators: &[&str]) -> Result<List, ParseError> {
        let mut list = Vec::new();
        loop {
            while matches!(self.peek(), Some(Token::Op(Op::Newline | Op::Semi))) {
                self.pos += 1;
            }
            match self.peek() {
                None | Some(Token::Op(Op::RParen)) => break,
                _ if self
                    .peek_reserved()
                    .is_some_and(|word| terminators.contains(&word)) =>
                {
                    break
                }
                _ => {}
            }
            list.push(self.and_or()?);
            match self.peek() {
                // Background jobs run in the foreground: there is no job control here.
                Some(Token::Op(Op::Semi | Op::Newline | Op::Amp)) => self.pos += 1,
                _ => break,
            }
        }
        Ok(list)
    }

    fn and_or(&mut self) -> Result<AndOr, ParseError> {
        let first = self.pipeline()?;
        let mut rest = Vec::new();
        loop {
            let connector = match self.peek() {
                Some(Token::Op(Op::And)) => Connector::And,
                Some(Token::Op(Op::Or)) => Connector::Or,
                _ => break,
            };
            self.pos += 1;
            self.skip_newlines();
            rest.push((connector, self.pipeline()?));
        }
        Ok(AndOr { first, rest })
    }

    fn pipeline(&mut self) -> Result<Pipeline, ParseError> {
        let negated = self.peek_reserved() == Some("!");
        if negated {
            self.pos += 1;
        }
        let mut commands = vec![self.command()?];
        while self.peek() == Some(&Token::Op(Op::Pipe)) {
            self.pos += 1;
            self.skip_newlines();
            commands.push(self.command()?);
        }
        Ok(Pipeline { negated, commands })
    }

    fn command(&mut self) -> Result<Command, ParseError> {
        let kind = match self.peek_reserved() {
            Some("if") => self.if_command()?,
            Some("while") | Some("until") => self.loop_command()?,
            Some("for") => self.for_command()?,
            Some("{") => {
                self.pos += 1;
                let body = self.list(&["}"])?;
                self.expect_reserved("}")?;
                CommandKind::Group(body)
            }
            Some(_) => return Err(self.unexpected(&self.tokens[self.pos])),
            None if self.peek() == Some(&Token::Op(Op::LParen)) => {
                self.pos += 1;
                let body = self.list(&[])?;
                match self.peek() {
                    Some(Token::Op(Op::RParen)) => self.pos += 1,
                    Some(token) => return Err(self.unexpected(token)),
                    None => return Err(self.end_of_input()),
                }
                CommandKind::Subshell(body)
            }
            None => return self.simple_command(),
        };
        let mut redirects = Vec::new();
        while let Some(Token::Redir { .. }) = self.peek() {
            redirects.push(self.redirect()?);
        }
        Ok(Command { kind, redirects })
    }

    fn redirect(&mut self) -> Result<Redirect, ParseError> {
        let Some(Token::Redir { fd, kind }) = self.peek().cloned() else {
            return Err(self.end_of_input());
        };
        self.pos += 1;
        match self.peek().cloned() {
            Some(Token::Word(target)) => {
                self.pos += 1;
                Ok(Redirect { fd, kind, target })
            }
            Some(token) => Err(self.unexpected(&token)),
            None => Err(self.end_of_input()),
        }
    }

    fn simple_command(&mut self) -> Result<Command, ParseError> {
        let mut assignments = Vec::new();
        let mut words = Vec::new();
        let mut redirects = Vec::new();
        loop {
            match self.peek().cloned() {
                Some(Token::Redir { .. }) => redirects.push(self.redirect()?),
                Some(Token::Word(word)) => {
                    self.pos += 1;
                    match split_assignment(&word).filter(|_| words.is_empty()) {
                        Some(assignment) => assignments.push(assignment),
                        None => words.push(word),
                    }
                }
                _ => break,
            }
        }
        if assignments.is_empty() && words.is_empty() && redirects.is_empty() {
            return Err(match self.peek() {
                Some(token) => self.unexpected(token),
                None => self.end_of_input(),
            });
        }
        Ok(Command {
            kind: CommandKind::Simple { assignments, words },
            redirects,
        })
    }

    fn if_command(&mut self) -> Result<CommandKind, ParseError> {
        self.pos += 1;
        let mut branches = Vec::new();
        let mut otherwise = None;
        loop {
            let condition = self.list(&["then"])?;
            self.expect_reserved("then")?;
            let body = self.list(&["elif", "else", "fi"])?;
            branches.push((condition, body));
            match self.peek_reserved() {
                Some("elif") => self.pos += 1,
                Some("else") => {
                    self.pos += 1;
                    otherwise = Some(self.list(&["fi"])?);
                    self.expect_reserved("fi")?;
                    break;
                }
                _ => {
                    self.expect_reserved("fi")?;
                    break;
                }
            }
        }
        Ok(CommandKind::If {
            branches,
            otherwise,
        })
    }

    fn loop_command(&mut self) -> Result<CommandKind, ParseError> {
        let until = self.peek_reserved() == Some("until");
        self.pos += 1;
        let condition = self.list(&["do"])?;
        let body = self.do_group()?;
        Ok(CommandKind::Loop {
            until,
            condition,
            body,
        })
    }

    fn do_group(&mut self) -> Result<List, ParseError> {
        self.expect_reserved("do")?;
        let body = self.list(&["done"])?;
        self.expect_reserved("done")?;
        Ok(body)
    }

    fn for_command(&mut self) -> Result<CommandKind, ParseError> {
        self.pos += 1;
        let variable = match self.peek() {
            Some(Token::Word(word)) => match plain_text(word).filter(|name| is_name(name)) {
                Some(name) => name.to_string(),
                None => return Err(ParseError("syntax error: bad for loop variable".into())),
            },
            Some(token) => return Err(self.unexpected(token)),
            None => return Err(self.end_of_input()),
        };
        self.pos += 1;
        self.skip_newlines();
        let mut items = None;
        if self.peek_reserved() == Some("in") {
            self.pos += 1;
            let mut words = Vec::new();
            while let Some(Token::Word(word)) = self.peek() {
                words.push(word.clone());
                self.pos += 1;
            }
            items = Some(words);
        }
        while matches!(self.peek(), Some(Token::Op(Op::Newline | Op::Semi))) {
            self.pos += 1;
        }
        let body = self.do_group()?;
        Ok(CommandKind::For {
            variable,
            items,
            body,
        })
    }
}

pub fn is_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `NAME=value…` (the name must be unquoted) → (NAME, value word).
fn split_assignment(word: &Word) -> Option<(String, Word)> {
    use crate::lexer::Part;
    let Some(Part::Lit(first)) = word.first() else {
        return None;
    };
    let (name, value) = first.split_once('=')?;
    if !is_name(name) {
        return None;
    }
    let mut rest = Vec::new();
    if !value.is_empty() {
        rest.push(Part::Lit(value.to_string()));
    }
    rest.extend(word[1..].iter().cloned());
    Some((name.to_string(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::Part;

    fn simple_words(command: &Command) -> Vec<String> {
        let CommandKind::Simple { words, .. } = &command.kind else {
            panic!("not simple")
        };
        words
            .iter()
            .map(|w| plain_text(w).unwrap_or("?").to_string())
            .collect()
    }

    #[test]
    fn kubernetes_liveness_example() {
        let list = parse("touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600").unwrap();
        assert_eq!(list.len(), 4);
        assert_eq!(
            simple_words(&list[2].first.commands[0]),
            ["rm", "-f", "/tmp/healthy"]
        );
    }

    #[test]
    fn and_or_chains_and_pipelines() {
        let list = parse("a && b || c | d").unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].rest.len(), 2);
        assert_eq!(list[0].rest[0].0, Connector::And);
        assert_eq!(list[0].rest[1].0, Connector::Or);
        assert_eq!(list[0].rest[1].1.commands.len(), 2);
    }

    #[test]
    fn assignments_only_before_the_command_name() {
        let list = parse("A=1 B=x$C env D=2").unwrap();
        let CommandKind::Simple { assignments, words } = &list[0].first.commands[0].kind else {
            panic!("not simple")
        };
        assert_eq!(assignments.len(), 2);
        assert_eq!(assignments[1].0, "B");
        assert_eq!(assignments[1].1[0], Part::Lit("x".into()));
        assert_eq!(words.len(), 2);
    }

    #[test]
    fn compound_commands() {
        let list = parse(
            "while true; do echo hi; sleep 5; done\n\
             for i in 1 2 3; do echo $i; done\n\
             if [ -f /x ]; then echo y; elif false; then :; else echo n; fi\n\
             until false; do break; done\n\
             { echo a; echo b; } > /tmp/out\n\
             (cd /tmp && ls)",
        )
        .unwrap();
        assert_eq!(list.len(), 6);
        assert!(matches!(
            list[0].first.commands[0].kind,
            CommandKind::Loop { until: false, .. }
        ));
        assert!(
            matches!(&list[1].first.commands[0].kind, CommandKind::For { variable, .. } if variable == "i")
        );
        assert!(
            matches!(&list[2].first.commands[0].kind, CommandKind::If { branches, otherwise: Some(_) } if branches.len() == 2)
        );
        assert!(matches!(
            list[3].first.commands[0].kind,
            CommandKind::Loop { until: true, .. }
        ));
        assert_eq!(list[4].first.commands[0].redirects.len(), 1);
        assert!(matches!(
            list[5].first.commands[0].kind,
            CommandKind::Subshell(_)
        ));
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert_eq!(
            parse("echo a &&").unwrap_err().0,
            "syntax error: unexpected end of file"
        );
        assert_eq!(
            parse("; ; fi").unwrap_err().0,
            "syntax error: unexpected fi"
        );
        assert!(parse("if true; then echo").is_err());
        assert!(parse("echo >").is_err());
    }
}
