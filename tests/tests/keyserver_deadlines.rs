//! Slow clients cannot hold the server: request headers and bodies must arrive within total deadlines
//! (a trickle of bytes does not extend them), and connections are limited. 300 connections trickling
//! headers or bodies are all closed by the deadlines, while `/healthz` keeps answering.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::time::Duration;

use openzone_tests::keyserver_fixture::{http, start_temp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TRICKLERS: usize = 300;

/// Sends `head` at once, then one byte of `drip` every 200 ms, while reading what the server answers;
/// returns once the server has closed the connection.
async fn trickle(addr: std::net::SocketAddr, head: String, drip: &'static [u8]) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        if write.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for byte in drip.iter().cycle() {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
        }
    });
    let mut buf = [0u8; 1024];
    loop {
        match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    writer.abort();
}

/// The status of `GET /healthz`.
async fn health(url: &str) -> u16 {
    let response = http().get(format!("{url}healthz")).send().await.unwrap();
    response.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_clients_are_cut_off_by_the_deadlines_while_health_checks_answer() {
    let (_dir, running) = start_temp(|config| {
        config.http.header_deadline = Duration::from_secs(2);
        config.http.body_deadline = Duration::from_secs(2);
    })
    .await;
    let addr = running.addr;

    let mut tasks = Vec::new();
    for i in 0..TRICKLERS {
        let task = if i % 2 == 0 {
            // Headers that never end: one more header byte at a time.
            tokio::spawn(trickle(
                addr,
                "POST /v1/publish HTTP/1.1\r\nHost: keys\r\n".to_owned(),
                b"X-Slow: a\r\n",
            ))
        } else {
            // Complete headers, then a body one byte at a time.
            tokio::spawn(trickle(
                addr,
                "POST /v1/publish HTTP/1.1\r\nHost: keys\r\nContent-Length: 4000\r\n\r\n"
                    .to_owned(),
                b"x",
            ))
        };
        tasks.push(task);
    }
    // While they trickle, the server answers others.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(health(&running.url).await, 200);

    // Every trickling connection is closed by the server (the bound only keeps a broken server from
    // hanging the test: the deadlines are 2 s).
    let all = futures::future::join_all(tasks);
    tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("trickling connections were still open a minute later");
    assert_eq!(health(&running.url).await, 200);
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let (_dir, running) = start_temp(|config| {
        config.http.max_connections = 4;
        config.http.header_deadline = Duration::from_secs(2);
    })
    .await;
    // Four idle connections fill the server.
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(running.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A fifth request is served only once the deadline has closed one of them.
    let answered = tokio::spawn({
        let url = running.url.clone();
        async move {
            http()
                .get(format!("{url}healthz"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !answered.is_finished(),
        "a fifth connection was served while four were open"
    );
    assert_eq!(answered.await.unwrap(), 200);
    drop(idle);
    running.stop().await;
}
