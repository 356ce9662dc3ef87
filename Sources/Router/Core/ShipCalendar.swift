import Foundation

/// Per-warehouse cut-off and pickup calendar: the ship-by moment is the next
/// pickup (a pickup weekday that is no holiday) whose cut-off has not passed.
public enum ShipCalendar {
    public static func shipBy(from warehouse: RouterRules.Warehouse, at now: Date, timeZone: TimeZone) -> Date? {
        let calendar = Self.calendar(timeZone)
        let today = calendar.startOfDay(for: now)
        let minutesNow = calendar.component(.hour, from: now) * 60 + calendar.component(.minute, from: now)
        for offset in 0..<60 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today) else { return nil }
            guard warehouse.pickupWeekdays.contains(isoWeekday(day, calendar)), !warehouse.holidays.contains(localDate(day, calendar)) else { continue }
            if offset == 0 && minutesNow >= warehouse.cutoffMinutes { continue }
            return calendar.date(byAdding: .minute, value: warehouse.cutoffMinutes, to: day)
        }
        return nil
    }

    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// 1 = Monday … 7 = Sunday.
    static func isoWeekday(_ date: Date, _ calendar: Calendar) -> Int {
        (calendar.component(.weekday, from: date) + 5) % 7 + 1
    }

    public static func localDate(_ date: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
