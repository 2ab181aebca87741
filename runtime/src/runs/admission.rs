//! Fair admission across apps. Slots are handed out per app: an app never holds more than
//! its share of the running slots (so one app's long jobs cannot take every slot), a
//! freed slot goes to the waiting app that runs the fewest guests, each app has its own
//! queue allowance, and an optional per-app rate limit (token bucket). Limits can be set
//! per app; the rest use the defaults derived from the server's slot and queue sizes.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::oneshot;

/// Limits of one app; `None` uses the server's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AppLimits {
    /// Guests of the app running at once.
    pub max_running: Option<usize>,
    /// Sync calls of the app waiting for a slot before more get 429.
    pub max_queue: Option<usize>,
    /// Calls admitted per second (sync and async invocations, bin runs); none: no limit.
    pub rate_per_sec: Option<f64>,
    /// Calls admitted at once above the rate (default: one second's worth).
    pub burst: Option<f64>,
}

/// Why a call was refused at the door.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The server is at its total capacity.
    #[error("too many invocations in flight ({0} running or queued); try again later")]
    Busy(usize),
    /// The app used its share of running and queued places.
    #[error("this app has {0} invocations running or queued, its share; try again later")]
    AppBusy(usize),
    /// The app's rate limit.
    #[error("this app's rate limit of {0} calls per second is reached; try again later")]
    Rate(f64),
}

/// The slot and queue state of every app.
#[derive(Debug)]
pub(super) struct Admission {
    state: Mutex<State>,
    /// Running slots in all.
    slots: usize,
    /// Running plus queued places in all.
    capacity: usize,
    /// Default running share of one app.
    default_running: usize,
    /// Default queue allowance of one app.
    default_queue: usize,
}

#[derive(Debug, Default)]
struct State {
    free: usize,
    in_flight: usize,
    apps: HashMap<i64, App>,
}

#[derive(Debug, Default)]
struct App {
    limits: AppLimits,
    running: usize,
    in_flight: usize,
    waiters: VecDeque<oneshot::Sender<SlotGrant>>,
    bucket: Option<(f64, Instant)>,
}

/// A running slot of an app; given back on drop.
#[derive(Debug)]
pub struct SlotGrant {
    admission: Arc<Admission>,
    app: i64,
    armed: bool,
}

impl Drop for SlotGrant {
    fn drop(&mut self) {
        if self.armed {
            self.admission.release(self.app);
        }
    }
}

/// A place (running or queued) of an app; given back on drop.
#[derive(Debug)]
pub struct Place {
    admission: Arc<Admission>,
    app: i64,
}

impl Place {
    /// The app holding it.
    pub fn app(&self) -> i64 {
        self.app
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut state = self.admission.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        if let Some(app) = state.apps.get_mut(&self.app) {
            app.in_flight = app.in_flight.saturating_sub(1);
        }
    }
}

impl Admission {
    /// `slots` running places and `queue` queued ones in all; one app may hold `share`
    /// (0–1) of each by default.
    pub(super) fn new(slots: usize, queue: usize, share: f64) -> Arc<Self> {
        let slots = slots.max(1);
        let portion = |n: usize| ((n as f64 * share).ceil() as usize).clamp(1, n.max(1));
        Arc::new(Self {
            state: Mutex::new(State { free: slots, ..State::default() }),
            slots,
            capacity: slots + queue,
            default_running: portion(slots),
            default_queue: if queue == 0 { 0 } else { portion(queue) },
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn running_cap(&self, app: &App) -> usize {
        app.limits.max_running.unwrap_or(self.default_running).clamp(1, self.slots)
    }

    /// Sets an app's limits (taking effect for the next admissions).
    pub(super) fn set_limits(&self, app: i64, limits: AppLimits) {
        let mut state = self.lock();
        let entry = state.apps.entry(app).or_default();
        entry.limits = limits;
        entry.bucket = None;
    }

    /// An app's limits as set (defaults as `None`).
    pub(super) fn limits(&self, app: i64) -> AppLimits {
        self.lock().apps.get(&app).map(|a| a.limits).unwrap_or_default()
    }

    /// The defaults: `(max_running, max_queue)` of an app without limits of its own.
    pub(super) fn defaults(&self) -> (usize, usize) {
        (self.default_running, self.default_queue)
    }

    /// A place for a call that may be refused: 429 past the total capacity, the app's
    /// share of it, or its rate.
    pub(super) fn try_enter(self: &Arc<Self>, app_key: i64) -> Result<Place, Refusal> {
        let mut state = self.lock();
        if state.in_flight >= self.capacity {
            return Err(Refusal::Busy(state.in_flight));
        }
        let (default_running, default_queue) = (self.default_running, self.default_queue);
        let app = state.apps.entry(app_key).or_default();
        let cap = app.limits.max_running.unwrap_or(default_running) + app.limits.max_queue.unwrap_or(default_queue);
        if app.in_flight >= cap {
            return Err(Refusal::AppBusy(app.in_flight));
        }
        take_token(app)?;
        app.in_flight += 1;
        state.in_flight += 1;
        Ok(Place { admission: self.clone(), app: app_key })
    }

    /// Checks only the app's rate (async submissions, which wait in the store instead).
    pub(super) fn check_rate(&self, app_key: i64) -> Result<(), Refusal> {
        take_token(self.lock().apps.entry(app_key).or_default())
    }

    /// A place even past capacity: for work already accepted (queued async jobs, flow tasks).
    pub(super) fn enter(self: &Arc<Self>, app_key: i64) -> Place {
        let mut state = self.lock();
        state.in_flight += 1;
        state.apps.entry(app_key).or_default().in_flight += 1;
        Place { admission: self.clone(), app: app_key }
    }

    /// A slot for the app now, if one is free and the app is under its share.
    pub(super) fn try_slot(self: &Arc<Self>, app_key: i64) -> Option<SlotGrant> {
        let mut state = self.lock();
        let free = state.free;
        let app = state.apps.entry(app_key).or_default();
        if free == 0 || app.running >= self.running_cap(app) || !app.waiters.is_empty() {
            return None;
        }
        app.running += 1;
        state.free -= 1;
        Some(SlotGrant { admission: self.clone(), app: app_key, armed: true })
    }

    /// Waits for a slot of the app (fairly: see [`Admission::release`]).
    pub(super) async fn slot(self: &Arc<Self>, app_key: i64) -> SlotGrant {
        if let Some(grant) = self.try_slot(app_key) {
            return grant;
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.lock();
            state.apps.entry(app_key).or_default().waiters.push_back(tx);
            self.hand_out(&mut state);
        }
        match rx.await {
            Ok(grant) => grant,
            // Never dropped while waiting: the sender lives in the state until it is used.
            Err(_) => Box::pin(self.slot(app_key)).await,
        }
    }

    /// Frees an app's slot and hands free slots to waiting apps.
    fn release(self: &Arc<Self>, app_key: i64) {
        let mut state = self.lock();
        if let Some(app) = state.apps.get_mut(&app_key) {
            app.running = app.running.saturating_sub(1);
        }
        state.free += 1;
        self.hand_out(&mut state);
    }

    /// While slots are free: the waiting app under its share with the fewest running
    /// guests gets the next one.
    fn hand_out(self: &Arc<Self>, state: &mut State) {
        while state.free > 0 {
            let next = state
                .apps
                .iter()
                .filter(|(_, a)| !a.waiters.is_empty() && a.running < self.running_cap(a))
                .min_by_key(|(_, a)| a.running)
                .map(|(key, _)| *key);
            let Some(key) = next else { return };
            let Some(app) = state.apps.get_mut(&key) else { return };
            let Some(waiter) = app.waiters.pop_front() else { continue };
            let grant = SlotGrant { admission: self.clone(), app: key, armed: true };
            match waiter.send(grant) {
                Ok(()) => {
                    app.running += 1;
                    state.free -= 1;
                }
                // The waiter gave up: this slot is still free.
                Err(mut unused) => unused.armed = false,
            }
        }
    }

    /// Slots free now.
    pub(super) fn free_slots(&self) -> usize {
        self.lock().free
    }

    /// Apps at their running share (the async dispatcher claims none of their jobs).
    pub(super) fn saturated_apps(&self) -> Vec<i64> {
        let state = self.lock();
        state.apps.iter().filter(|(_, a)| a.running >= self.running_cap(a)).map(|(k, _)| *k).collect()
    }

    /// Places taken in all.
    pub(super) fn in_flight(&self) -> usize {
        self.lock().in_flight
    }
}

/// Takes one token from the app's bucket, refilled at its rate.
fn take_token(app: &mut App) -> Result<(), Refusal> {
    let Some(rate) = app.limits.rate_per_sec.filter(|r| *r > 0.0) else { return Ok(()) };
    let burst = app.limits.burst.unwrap_or(rate).max(1.0);
    let now = Instant::now();
    let (tokens, since) = app.bucket.unwrap_or((burst, now));
    let tokens = (tokens + now.duration_since(since).as_secs_f64() * rate).min(burst);
    if tokens < 1.0 {
        app.bucket = Some((tokens, now));
        return Err(Refusal::Rate(rate));
    }
    app.bucket = Some((tokens - 1.0, now));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_app_cannot_take_every_slot_and_a_freed_slot_goes_to_the_app_running_fewest() {
        let admission = Admission::new(4, 8, 0.75);
        let mut a: Vec<SlotGrant> = (0..3).map(|_| admission.try_slot(1).expect("a slot")).collect();
        assert!(admission.try_slot(1).is_none(), "app 1 holds its share, 3 of 4");
        let b = admission.try_slot(2).expect("app 2 still gets a slot");
        // Both wait; the slot app 1 frees goes to app 2 (1 running) before app 1 (2 running).
        let waiting_a = tokio::spawn({
            let admission = admission.clone();
            async move { admission.slot(1).await }
        });
        let waiting_b = tokio::spawn({
            let admission = admission.clone();
            async move { admission.slot(2).await }
        });
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        drop(a.pop());
        let b2 = tokio::time::timeout(std::time::Duration::from_secs(5), waiting_b)
            .await
            .expect("app 2 served")
            .expect("joins");
        assert!(!waiting_a.is_finished(), "app 1 waits for the next one");
        drop(b);
        let a2 = tokio::time::timeout(std::time::Duration::from_secs(5), waiting_a)
            .await
            .expect("app 1 served")
            .expect("joins");
        drop((a2, b2));
        assert_eq!(admission.free_slots(), 2, "slots given back: 4 minus app 1's two still held");
    }

    #[test]
    fn each_app_has_its_own_queue_allowance_and_rate() {
        let admission = Admission::new(2, 4, 0.5);
        let places: Vec<Place> = (0..3).map(|_| admission.try_enter(1).expect("within the share")).collect();
        assert_eq!(admission.try_enter(1).err(), Some(Refusal::AppBusy(3)), "1 running + 2 queued");
        let other = admission.try_enter(2).expect("another app is admitted");
        drop((places, other));
        admission.set_limits(3, AppLimits { rate_per_sec: Some(1.0), burst: Some(2.0), ..AppLimits::default() });
        let first = admission.try_enter(3).expect("burst 1");
        let second = admission.try_enter(3).expect("burst 2");
        assert_eq!(admission.try_enter(3).err(), Some(Refusal::Rate(1.0)));
        drop((first, second));
    }
}
