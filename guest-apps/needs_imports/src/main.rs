//! A program that imports `example:needs/greeter`, which wasmpod does not provide: starting it
//! must fail with a `CreateContainerError` naming that import.

wit_bindgen::generate!({
    inline: r#"
        package example:needs;
        interface greeter {
            greet: func(name: string) -> string;
        }
        world needs {
            import greeter;
        }
    "#,
    world: "needs",
});

fn main() {
    println!("{}", example::needs::greeter::greet("wasmpod"));
}
