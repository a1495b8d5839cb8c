//! `$((…))`: integer arithmetic with variables, the usual C operators and parentheses.

use crate::shell::Shell;

pub fn evaluate(expr: &str, shell: &Shell) -> Result<i64, String> {
    let tokens = tokenize(expr, shell)?;
    let mut parser = Parser { tokens, pos: 0 };
    let value = parser.binary(0)?;
    match parser.tokens.get(parser.pos) {
        None => Ok(value),
        Some(token) => Err(format!("unexpected {token:?}")),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(i64),
    Op(&'static str),
}

const OPERATORS: &[&str] = &[
    "<=", ">=", "==", "!=", "&&", "||", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "!", "(",
    ")", "&", "|", "^", "~",
];

fn tokenize(expr: &str, shell: &Shell) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = expr.trim_start();
    while !rest.is_empty() {
        let c = rest.chars().next().unwrap_or(' ');
        if c.is_ascii_digit() {
            let end = rest
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len());
            tokens.push(Token::Number(parse_number(&rest[..end])?));
            rest = &rest[end..];
        } else if c == '$' || c == '_' || c.is_ascii_alphabetic() {
            let body = rest.trim_start_matches('$');
            let (name, after) = match body.strip_prefix('{') {
                Some(braced) => {
                    let end = braced.find('}').ok_or("missing }")?;
                    (&braced[..end], &braced[end + 1..])
                }
                None => {
                    let end = body
                        .find(|c: char| c != '_' && !c.is_ascii_alphanumeric())
                        .unwrap_or(body.len());
                    (&body[..end], &body[end..])
                }
            };
            let value = shell.var(name).unwrap_or_default();
            let value = value.trim();
            tokens.push(Token::Number(if value.is_empty() {
                0
            } else {
                parse_number(value)?
            }));
            rest = after;
        } else {
            let op = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| format!("bad character '{c}'"))?;
            tokens.push(Token::Op(op));
            rest = &rest[op.len()..];
        }
        rest = rest.trim_start();
    }
    Ok(tokens)
}

fn parse_number(text: &str) -> Result<i64, String> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None if text.len() > 1 && text.starts_with('0') => (&text[1..], 8),
        None => (text, 10),
    };
    let (negative, digits) = match digits.strip_prefix('-') {
        Some(positive) => (true, positive),
        None => (false, digits),
    };
    let value = i64::from_str_radix(digits, radix).map_err(|_| format!("bad number '{text}'"))?;
    Ok(if negative { -value } else { value })
}

fn precedence(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "^" => 4,
        "&" => 5,
        "==" | "!=" => 6,
        "<" | ">" | "<=" | ">=" => 7,
        "<<" | ">>" => 8,
        "+" | "-" => 9,
        "*" | "/" | "%" => 10,
        _ => return None,
    })
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn binary(&mut self, min: u8) -> Result<i64, String> {
        let mut left = self.unary()?;
        while let Some(Token::Op(op)) = self.tokens.get(self.pos).cloned() {
            let Some(level) = precedence(op).filter(|level| *level > min) else {
                break;
            };
            self.pos += 1;
            let right = self.binary(level)?;
            left = apply(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<i64, String> {
        match self.next() {
            Some(Token::Number(value)) => Ok(value),
            Some(Token::Op("-")) => Ok(self.unary()?.wrapping_neg()),
            Some(Token::Op("+")) => self.unary(),
            Some(Token::Op("!")) => Ok(i64::from(self.unary()? == 0)),
            Some(Token::Op("~")) => Ok(!self.unary()?),
            Some(Token::Op("(")) => {
                let value = self.binary(0)?;
                match self.next() {
                    Some(Token::Op(")")) => Ok(value),
                    _ => Err("missing )".into()),
                }
            }
            Some(token) => Err(format!("unexpected {token:?}")),
            None => Err("missing operand".into()),
        }
    }
}

fn apply(op: &str, left: i64, right: i64) -> Result<i64, String> {
    Ok(match op {
        "+" => left.wrapping_add(right),
        "-" => left.wrapping_sub(right),
        "*" => left.wrapping_mul(right),
        "/" | "%" if right == 0 => return Err("divide by zero".into()),
        "/" => left.wrapping_div(right),
        "%" => left.wrapping_rem(right),
        "<<" => left.wrapping_shl(right as u32),
        ">>" => left.wrapping_shr(right as u32),
        "&" => left & right,
        "|" => left | right,
        "^" => left ^ right,
        "<" => i64::from(left < right),
        ">" => i64::from(left > right),
        "<=" => i64::from(left <= right),
        ">=" => i64::from(left >= right),
        "==" => i64::from(left == right),
        "!=" => i64::from(left != right),
        "&&" => i64::from(left != 0 && right != 0),
        "||" => i64::from(left != 0 || right != 0),
        _ => return Err(format!("unknown operator {op}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_parentheses_and_variables() {
        let mut shell = Shell::new([("I".to_string(), "4".to_string())]);
        shell.set_var("J", "10".into());
        assert_eq!(evaluate("1 + 2 * 3", &shell), Ok(7));
        assert_eq!(evaluate("(1 + 2) * 3", &shell), Ok(9));
        assert_eq!(evaluate("I + 1", &shell), Ok(5));
        assert_eq!(evaluate("$J % 3 - -1", &shell), Ok(2));
        assert_eq!(evaluate("UNSET + 2", &shell), Ok(2));
        assert_eq!(evaluate("I < J && !0", &shell), Ok(1));
        assert_eq!(evaluate("0x10 + 010", &shell), Ok(24));
        assert!(evaluate("1 / 0", &shell).is_err());
        assert!(evaluate("1 +", &shell).is_err());
    }
}
