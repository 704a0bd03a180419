//! The import's one question to TheMovieDB: the popular movies, complete
//! with genre names and runtimes, all fetched before anything is written.

use std::collections::{HashMap, HashSet};

use futures_util::{StreamExt, TryStreamExt, future, stream};

use super::error::TmdbError;
use super::movie::TmdbMovie;
use super::settings::TmdbSettings;
use super::transport::{Fetch, Transport, describe};
use super::wire::{GenreList, ListedMovie, MovieDetails, PopularPage};

/// The most pages an import may ask for (20 movies each).
pub const MAX_PAGES: u32 = 10;

/// A TheMovieDB client; clones share the connection pool and the in-flight limit.
#[derive(Debug, Clone)]
pub struct TmdbClient {
    transport: Transport,
    image_base_url: String,
    max_in_flight: usize,
    retry_budget: u32,
}

impl TmdbClient {
    pub fn new(settings: &TmdbSettings) -> Result<Self, String> {
        Ok(Self {
            transport: Transport::new(settings)?,
            image_base_url: settings.image_base_url.trim_end_matches('/').to_owned(),
            max_in_flight: settings.max_in_flight.max(1),
            retry_budget: settings.retry_budget,
        })
    }

    /// Whether a token is set; without one every fetch is refused.
    pub fn is_configured(&self) -> bool {
        self.transport.is_configured()
    }

    /// A fetch with this client's retry budget, to pass to
    /// [`TmdbClient::fetch_popular_into`] and watch meanwhile.
    pub fn new_fetch(&self) -> Fetch {
        Fetch::new(self.retry_budget)
    }

    /// Everything an import needs, fetched before anything is written: the genre names,
    /// `pages` pages of /movie/popular (deduplicated by id, first occurrence wins, in list order),
    /// and each movie's runtime from /movie/{id}. Err on the first request that fails for good.
    pub async fn fetch_popular(&self, pages: u32) -> Result<Vec<TmdbMovie>, TmdbError> {
        self.fetch_popular_into(pages, &self.new_fetch()).await
    }

    /// [`TmdbClient::fetch_popular`], counting into `fetch`, whose progress
    /// the caller may read while it runs. Logs what it fetched, or which
    /// request failed and why (the caller decides what that means).
    #[tracing::instrument(name = "tmdb_fetch_popular", skip(self, fetch))]
    pub async fn fetch_popular_into(
        &self,
        pages: u32,
        fetch: &Fetch,
    ) -> Result<Vec<TmdbMovie>, TmdbError> {
        if !self.is_configured() {
            return Err(TmdbError::NotConfigured);
        }
        let pages = pages.clamp(1, MAX_PAGES);
        let result = self.fetch(fetch, pages).await;
        match &result {
            Ok(movies) => tracing::info!(
                pages,
                movies = movies.len(),
                requests = fetch.requests(),
                retries = fetch.retries(),
                "fetched popular movies from TheMovieDB"
            ),
            // The import says, as a warning, that it failed and why.
            Err(err) => tracing::info!(
                pages,
                requests = fetch.requests(),
                retries = fetch.retries(),
                error = %err,
                "fetching popular movies from TheMovieDB failed"
            ),
        }
        result
    }

    async fn fetch(&self, fetch: &Fetch, pages: u32) -> Result<Vec<TmdbMovie>, TmdbError> {
        let (genre_names, first) =
            future::try_join(self.genre_names(fetch), self.popular_page(fetch, 1)).await?;
        // No need to ask for pages TheMovieDB says it does not have.
        let last = pages.min(first.total_pages.max(1));
        let rest: Vec<PopularPage> = stream::iter(2..=last)
            .map(|page| self.popular_page(fetch, page))
            .buffered(self.max_in_flight)
            .try_collect()
            .await?;
        let listed = first_occurrences(
            std::iter::once(first)
                .chain(rest)
                .flat_map(|page| page.results),
        );
        // Ids collected first: a stream borrowing `listed` through a closure
        // would make this future not `Send` for every lifetime, which a
        // spawned task (and a transaction's closure) needs.
        let ids: Vec<i64> = listed.iter().map(|movie| movie.id).collect();
        let runtimes: Vec<Option<i64>> = stream::iter(ids)
            .map(|id| self.runtime(fetch, id))
            .buffered(self.max_in_flight)
            .try_collect()
            .await?;
        Ok(listed
            .into_iter()
            .zip(runtimes)
            .map(|(movie, runtime)| {
                TmdbMovie::assemble(movie, &genre_names, &self.image_base_url, runtime)
            })
            .collect())
    }

    async fn genre_names(&self, fetch: &Fetch) -> Result<HashMap<i64, String>, TmdbError> {
        let path = "/genre/movie/list";
        let list: GenreList = required(self.transport.get(fetch, path, &[]).await?, path, &[])?;
        Ok(list
            .genres
            .into_iter()
            .map(|genre| (genre.id, genre.name))
            .collect())
    }

    async fn popular_page(&self, fetch: &Fetch, page: u32) -> Result<PopularPage, TmdbError> {
        let path = "/movie/popular";
        let query = [("page", page.to_string())];
        let page = required(self.transport.get(fetch, path, &query).await?, path, &query)?;
        fetch.fetched_page();
        Ok(page)
    }

    /// The movie's runtime; a movie gone between the list and its details has none.
    async fn runtime(&self, fetch: &Fetch, id: i64) -> Result<Option<i64>, TmdbError> {
        let details: Option<MovieDetails> = self
            .transport
            .get(fetch, &format!("/movie/{id}"), &[])
            .await?;
        fetch.fetched_movie();
        Ok(details.and_then(|details| details.runtime))
    }
}

/// A 404 from a list means the base URL is wrong, not that the list is empty.
fn required<T>(
    answer: Option<T>,
    path: &str,
    query: &[(&'static str, String)],
) -> Result<T, TmdbError> {
    answer.ok_or_else(|| TmdbError::Unavailable {
        request: describe(path, query),
        reason: "answered 404 Not Found; is TMDB_BASE_URL TheMovieDB's v3 API root?".into(),
    })
}

/// The list shifts while it is paged through, so a movie can appear twice.
fn first_occurrences(movies: impl Iterator<Item = ListedMovie>) -> Vec<ListedMovie> {
    let mut seen = HashSet::new();
    movies.filter(|movie| seen.insert(movie.id)).collect()
}
